"""The weekly trend behind an authority's chart: signals and distinct authors per week, counted in SQL."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from foi_monitoring.models import AuthoritySignal, PublicAuthority
from foi_monitoring.selectors import weekly_trend

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def test_weeks_count_signals_and_distinct_authors_in_one_query(make_mention):
    lewisham = PublicAuthority.objects.create(name="Lewisham Council", code="LEW")
    kent = PublicAuthority.objects.create(name="Kent County Council", code="KEN")
    now = datetime(2026, 3, 18, 12, 0, tzinfo=LONDON)  # a Wednesday; this week began Monday 16 March
    # (authority, days before now, author); hand-counted expectations below.
    rows = [
        (lewisham, 0, "alice"), (lewisham, 1, "alice"), (lewisham, 2, "bob"),  # this week: 3 signals, 2 authors
        (lewisham, 8, "carol"),  # the week of 9 March: 1 signal, 1 author
        (lewisham, 200, "dave"),  # older than twelve weeks: not counted
        (kent, 0, "erin"),  # another authority: not counted
    ]
    for n, (authority, days, author) in enumerate(rows):
        at = now - timedelta(days=days)
        mention = make_mention(text=f"post {n}", author_handle=author, posted_at=at)
        AuthoritySignal.objects.create(authority=authority, mention=mention, codes=["overdue"], author_key=f"x:{author}",
                                       occurred_at=at, collected_at=at)

    with CaptureQueriesContext(connection) as queries:
        trend = weekly_trend(authority=lewisham, now=now)
    assert len(queries.captured_queries) == 1

    assert len(trend) == 12
    assert trend[-1].starts == datetime(2026, 3, 16, tzinfo=LONDON)
    assert trend[0].starts == datetime(2025, 12, 29, tzinfo=LONDON)
    assert (trend[-1].signals, trend[-1].authors) == (3, 2)
    assert (trend[-2].signals, trend[-2].authors) == (1, 1)
    assert sum(week.signals for week in trend) == 4
