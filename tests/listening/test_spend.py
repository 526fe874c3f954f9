"""Spend: reads counted per search, channel and month; a post read twice in a UTC day charged
once; a monthly cap that stops the platform and lets it resume."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.test import override_settings

from governance.models import AuditEvent
from listening import harvest, services
from listening.credentials import credential_save
from listening.models import Channel, PlatformUsage, SavedSearch, SavedSearchPlatform
from listening.posts import Post
from listening.spend import month_totals, reads_record, spend_cap_set, spend_state
from tests.listening.fake_source import FakeClock, FakeSource, clean_redis, use_fake_source  # noqa: F401


def _posts(*ids):
    return [Post(platform="x", external_id=i, text="ICO") for i in ids]


def test_a_post_read_twice_in_one_utc_day_is_charged_once(communications, clean_redis):
    search = SavedSearch.objects.create(team=communications, name="S", query="ICO")
    morning = datetime(2026, 3, 10, 0, 30, tzinfo=timezone.utc)
    assert reads_record(platform="x", posts=_posts("1", "2"), saved_search_id=search.pk, now=morning) == 2
    assert reads_record(platform="x", posts=_posts("2", "3"), skipped=1, saved_search_id=search.pk, now=morning + timedelta(hours=20)) == 2
    assert reads_record(platform="x", posts=_posts("1"), saved_search_id=search.pk, now=morning + timedelta(days=1)) == 1
    usage = PlatformUsage.objects.get()
    assert (usage.reads, usage.charged_reads) == (6, 5)


def test_reads_are_counted_per_saved_search_per_channel_and_per_month(communications, clean_redis):
    search = SavedSearch.objects.create(team=communications, name="S", query="ICO")
    channel = Channel.objects.create(platform="x", channel="mentions")
    march, april = datetime(2026, 3, 31, 23, 0, tzinfo=timezone.utc), datetime(2026, 4, 1, 1, 0, tzinfo=timezone.utc)
    reads_record(platform="x", posts=_posts("a", "b"), saved_search_id=search.pk, now=march)
    reads_record(platform="x", posts=_posts("c"), channel_id=channel.pk, now=march)
    reads_record(platform="x", posts=_posts("d"), saved_search_id=search.pk, now=april)
    rows = set(PlatformUsage.objects.values_list("month", "saved_search_id", "channel_id", "reads"))
    assert rows == {
        (march.date().replace(day=1), search.pk, None, 2),
        (march.date().replace(day=1), None, channel.pk, 1),
        (april.date().replace(day=1), search.pk, None, 1),
    }
    totals = month_totals(now=march)
    assert totals == {"x": (3, 3)}
    state = spend_state("x", totals=totals, caps={})
    assert state.spend == Decimal("0.015") and state.reached == ""


@pytest.fixture
def capped_x(communications, admin_user, use_fake_source):
    clock = FakeClock()
    use_fake_source.clock = clock
    credential_save(platform="x", values={"bearer_token": "good"}, actor=admin_user)
    states = []
    for name in ("ICO", "FOI"):
        search = SavedSearch.objects.create(team=communications, name=name, query=name, interval_minutes=2)
        states.append(SavedSearchPlatform.objects.create(saved_search=search, platform="x", next_run_at=clock()))
    spend_cap_set(platform="x", monthly_cap=Decimal("0.02"), actor=admin_user)  # four posts at $0.005
    return clock, states


def _run(claim, clock, max_pages=3):
    return harvest.run(
        harvest.KINDS[claim.kind], pk=claim.pk, token=claim.token, max_pages=max_pages,
        source=FakeSource(page_size=2, prefix=f"post{claim.pk}"), clock=clock,
    )


def _due(states, clock):
    SavedSearchPlatform.objects.filter(pk__in=[s.pk for s in states]).update(next_run_at=clock())


def test_the_spend_cap_stops_the_platform_with_monthly_budget_reached_and_it_resumes_when_raised(capped_x, admin_user):
    clock, states = capped_x
    first, second = [_run(claim, clock) for claim in services.harvest_dispatch_due(now=clock())]
    assert (first.status, first.pages, first.fetched) == ("budget_reached", 2, 4)
    assert first.errors == ["monthly budget reached: $0.02 of the $0.02 cap"]
    assert (second.status, second.pages) == ("budget_reached", 0)  # a run in flight stops before its next page

    _due(states, clock)
    assert services.harvest_dispatch_due(now=clock.advance(minutes=5)) == []
    assert set(SavedSearchPlatform.objects.values_list("last_status", flat=True)) == {"budget_reached"}

    spend_cap_set(platform="x", monthly_cap=Decimal("5"), actor=admin_user)
    claims = services.harvest_dispatch_due(now=clock.advance(minutes=1))
    assert len(claims) == 2
    assert {_run(c, clock).status for c in claims} == {"ok"}
    assert AuditEvent.objects.filter(action="spend_cap.update").count() == 2


def test_a_platform_stopped_by_its_cap_resumes_next_month(capped_x):
    clock, states = capped_x
    for claim in services.harvest_dispatch_due(now=clock()):
        _run(claim, clock)
    _due(states, clock)
    assert services.harvest_dispatch_due(now=clock()) == []
    clock.now = datetime(2026, 4, 1, 0, 0, 1, tzinfo=timezone.utc)
    assert len(services.harvest_dispatch_due(now=clock())) == 2


@override_settings(EARSHOT_MONTHLY_READ_LIMITS={"x": 3})
def test_the_platforms_own_monthly_read_limit_stops_it_too(capped_x, admin_user):
    clock, states = capped_x
    spend_cap_set(platform="x", monthly_cap=None, actor=admin_user)
    run, _ = [_run(claim, clock) for claim in services.harvest_dispatch_due(now=clock())]
    assert run.status == "budget_reached" and "X's own limit of 3 a month" in run.errors[-1]
