"""The overview's SVG charts carry the numbers they claim, checked against seeded data."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from listening.models import Mention, MentionHit, SavedSearch
from triage.charts import team_charts
from triage.models import InboxItem
from triage.services import inbox_item_decide

pytestmark = pytest.mark.django_db


def _hits(search, at, count, tag):
    for n in range(count):
        mention = Mention.objects.create(platform="demo", external_id=f"{tag}-{n}", text="<b>x</b>", posted_at=at)
        MentionHit.objects.create(mention=mention, saved_search=search, matched_at=at + timedelta(minutes=1))


@pytest.fixture
def seeded(communications):
    # A fixed minute in the past hour, so every seeded post is in the past whenever the test runs.
    now = (timezone.now() - timedelta(hours=1)).replace(minute=45, second=0, microsecond=0)
    fee = SavedSearch.objects.create(team=communications, name="Data protection fee", query="fee")
    ico = SavedSearch.objects.create(team=communications, name='Posts that say "the <ICO>"', query='"the ICO"')
    _hits(fee, now - timedelta(minutes=30), 5, "fee-now")
    _hits(fee, now - timedelta(hours=2, minutes=10), 3, "fee-2h")
    _hits(ico, now - timedelta(hours=10), 4, "ico-10h")
    _hits(ico, now - timedelta(days=40), 7, "ico-40d")  # only in the 90-day chart
    return {"now": now, "fee": fee, "ico": ico}


def _label(moment):
    local = timezone.localtime(moment)
    return f"{local:%a} {local:%H}:00"


def test_the_hourly_chart_puts_each_count_in_its_hour(communications, seeded):
    now = seeded["now"]
    by_search, _, _ = team_charts(team=communications, range_key="48h", now=now)
    series = {s.name: s for s in by_search.series}
    assert len(by_search.labels) == 48 and by_search.labels[-1] == _label(now)
    fee = dict(zip(by_search.labels, series["Data protection fee"].values))
    assert fee[_label(now - timedelta(minutes=30))] == 5
    assert fee[_label(now - timedelta(hours=2, minutes=10))] == 3
    assert sum(series["Data protection fee"].values) == 8
    assert sum(series['Posts that say "the <ICO>"'].values) == 4  # the 40-day-old posts are outside 48 hours
    svg = str(by_search.svg())
    assert f"Data protection fee, {_label(now - timedelta(minutes=30))}: 5</title>" in svg
    assert 'data-series="Posts that say &quot;the &lt;ICO&gt;&quot;" data-total="4"' in svg
    assert "<title id=" in svg and "<desc id=" in svg and 'role="img"' in svg


def test_the_daily_chart_covers_ninety_days(communications, seeded):
    by_search, _, _ = team_charts(team=communications, range_key="90d", now=seeded["now"])
    series = {s.name: s for s in by_search.series}
    assert len(by_search.labels) == 90
    forty_days_ago = timezone.localtime(seeded["now"] - timedelta(days=40))
    ico = dict(zip(by_search.labels, series['Posts that say "the <ICO>"'].values))
    assert ico[f"{forty_days_ago.day} {forty_days_ago:%b}"] == 7
    assert sum(series['Posts that say "the <ICO>"'].values) == 11


def test_the_overview_page_shows_counts_charts_and_their_tables(client, comms_officer, communications, seeded, make_item):
    items = [make_item(communications) for _ in range(4)]
    for item, outcome in zip(items[:3], ("news_item", "news_item", "complaint")):
        inbox_item_decide(item=item, outcome=outcome, actor=comms_officer)
    client.force_login(comms_officer)
    body = client.get(reverse("triage:team", args=["communications"])).content.decode()
    assert re.search(r'id="stat-open-items">1<', body) and re.search(r'id="stat-decided-today">3<', body)
    assert re.search(r'id="stat-open-cases">1<', body)
    assert body.count("<svg") == 3 and body.count("<table>") == 3
    assert 'data-series="Data protection fee" data-total="8"' in body
    assert 'data-series="News item" data-total="2"' in body and 'data-series="Complaint" data-total="1"' in body
    assert 'data-series="New items" data-total="4"' in body
    assert "<td>5</td>" in body and "the <ICO>" not in body
    assert InboxItem.objects.filter(team=communications).count() == 4
