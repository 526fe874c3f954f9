"""From ingest to flags: monitoring hits are linked and scanned; flags need several authors."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from foi_monitoring.models import AuthoritySignal, Flag, MonitoringSettings, PublicAuthority, ScanMark
from foi_monitoring.services import flags_evaluate, monitoring_hits_scan
from listening.ingest import page_ingest
from listening.models import MentionHit, SavedSearch, SavedSearchPlatform
from listening.posts import Post

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def authorities(db):
    return {
        "lewisham": PublicAuthority.objects.create(name="London Borough of Lewisham", short_name="Lewisham", code="LEW",
                                                   authority_type="London borough"),
        "kent": PublicAuthority.objects.create(name="Kent County Council", short_name="Kent", code="KEN", authority_type="County"),
    }


@pytest.fixture
def searches(foi_team, communications):
    foi = SavedSearch.objects.create(team=foi_team, name="FOI", query="FOI", purpose="foi_monitoring")
    comms = SavedSearch.objects.create(team=communications, name="Council", query="council", purpose="engagement")
    for search in (foi, comms):
        SavedSearchPlatform.objects.create(saved_search=search, platform="demo")
    return {"foi": foi, "comms": comms}


def ingest(*posts):
    with transaction.atomic():
        page_ingest(platform="demo", posts=list(posts))


def post(n, text, author="campaigner", when=NOW):
    return Post(platform="demo", external_id=f"p{n}", text=text, author_handle=author, created_at=when,
                url=f"https://demo.earshot.invalid/{author}/{n}")


def test_ingested_monitoring_posts_become_signals_with_their_evidence(authorities, searches):
    ingest(
        post(1, "My FOI to Lewisham Council is six weeks overdue"),
        post(2, "Great FOI answer from Kent County Council, thanks!"),
        post(3, "Lewisham Council refused my request"),  # no "FOI": the monitoring search never hit it
        post(4, "Kent County Council refused my FOI and I've complained to the ICO", author="other"),
    )
    made = monitoring_hits_scan(lag_seconds=0)
    assert made == 2
    signals = {(s.authority.code, tuple(s.codes), s.mention.external_id) for s in AuthoritySignal.objects.select_related("authority", "mention")}
    assert signals == {("LEW", ("overdue",), "p1"), ("KEN", ("refused", "regulator_complaint"), "p4")}
    signal = AuthoritySignal.objects.get(mention__external_id="p1")
    assert signal.author_key == "demo:campaigner"
    assert signal.collected_at == MentionHit.objects.get(mention__external_id="p1", saved_search=searches["foi"]).matched_at
    # The mark moved: scanning again makes nothing new.
    assert monitoring_hits_scan(lag_seconds=0) == 0
    assert ScanMark.objects.get().last_hit_id == max(MentionHit.objects.filter(saved_search=searches["foi"]).values_list("id", flat=True))


def test_the_scan_leaves_hits_younger_than_the_lag_for_next_time(authorities, searches):
    ingest(post(1, "FOI to Lewisham Council ignored"))
    assert monitoring_hits_scan(lag_seconds=3600) == 0
    assert monitoring_hits_scan(lag_seconds=0) == 1


def _signal(authority, n, author, when):
    from listening.models import Mention

    mention = Mention.objects.create(platform="demo", external_id=f"s{n}", author_handle=author, text="FOI overdue",
                                     posted_at=when)
    return AuthoritySignal.objects.create(authority=authority, mention=mention, codes=["overdue"],
                                          author_key=f"demo:{author}", occurred_at=when, collected_at=when)


def test_three_distinct_authors_within_the_window_flag_an_authority(authorities):
    lewisham = authorities["lewisham"]
    _signal(lewisham, 1, "a", NOW - timedelta(days=20))  # outside the 14-day window
    _signal(lewisham, 2, "b", NOW - timedelta(days=3))
    _signal(lewisham, 3, "c", NOW - timedelta(days=2))
    assert flags_evaluate(authority_ids=[lewisham.id], now=NOW) == []
    _signal(lewisham, 4, "d", NOW - timedelta(days=1))
    [flag] = flags_evaluate(authority_ids=[lewisham.id], now=NOW)
    assert (flag.reason, flag.authors_count, flag.signals_count) == ("authors", 3, 3)
    # Evaluating again keeps the one open flag.
    assert flags_evaluate(authority_ids=[lewisham.id], now=NOW) == []
    assert Flag.objects.count() == 1


def test_one_noisy_account_never_flags_an_authority_alone(authorities):
    kent = authorities["kent"]
    for n in range(30):
        _signal(kent, n, "loud", NOW - timedelta(hours=n))
    assert flags_evaluate(authority_ids=[kent.id], now=NOW) == []


def test_a_spike_against_the_authoritys_own_baseline_flags_it(authorities):
    kent = authorities["kent"]
    _signal(kent, 1, "a", NOW - timedelta(days=3))
    _signal(kent, 2, "b", NOW - timedelta(days=2))
    _signal(kent, 3, "a", NOW - timedelta(days=1))
    _signal(kent, 4, "b", NOW - timedelta(hours=5))
    [flag] = flags_evaluate(authority_ids=[kent.id], now=NOW)
    assert flag.reason == "spike" and flag.authors_count == 2


def test_a_steady_baseline_is_not_a_spike(authorities):
    kent = authorities["kent"]
    # Two authors, four signals a fortnight for two months: the same four now is no spike.
    n = 0
    for day in range(1, 75, 3):
        n += 1
        _signal(kent, n, "ab"[n % 2], NOW - timedelta(days=day))
    assert flags_evaluate(authority_ids=[kent.id], now=NOW) == []


def test_admins_change_the_thresholds(authorities):
    settings_row = MonitoringSettings.current()
    settings_row.authors_threshold = 2
    settings_row.save()
    lewisham = authorities["lewisham"]
    _signal(lewisham, 1, "a", NOW - timedelta(days=1))
    _signal(lewisham, 2, "b", NOW - timedelta(days=1))
    [flag] = flags_evaluate(authority_ids=[lewisham.id], now=NOW)
    assert flag.reason == "authors"


def test_scanning_evaluates_flags(authorities, searches, monkeypatch):
    ingest(*[post(n, f"FOI to Lewisham Council still waiting, day {n}", author=f"person{n}", when=timezone.now())
             for n in range(3)])
    monitoring_hits_scan(lag_seconds=0)
    assert Flag.objects.get().authority == authorities["lewisham"]
