"""The shared request budget: many saved searches on one platform never exceed its
request budget, and every one still runs."""

from collections import Counter
from datetime import timedelta

import pytest
from django.test import override_settings

from listening import harvest
from listening.budgets import budget_for, budget_states
from listening.credentials import credential_save
from listening.dispatch import harvest_dispatch_due
from listening.models import Channel, HarvestRun, SavedSearch, SavedSearchPlatform
from tests.listening.fake_source import FakeClock, FakePlatform, FakeSource, clean_redis, use_fake_source  # noqa: F401

LIMIT, WINDOW = 10, timedelta(minutes=5)


@pytest.mark.timeout(120)
@override_settings(EARSHOT_REQUEST_BUDGETS={"x": (LIMIT, int(WINDOW.total_seconds()))})
def test_many_saved_searches_on_one_platform_never_exceed_its_request_budget_and_every_one_still_runs(
    communications, admin_user, use_fake_source
):
    clock = FakeClock()
    server = FakePlatform(limit=LIMIT, window=WINDOW, clock=clock)
    credential = credential_save(platform="x", values={"bearer_token": "good"}, actor=admin_user)
    for n in range(40):
        search = SavedSearch.objects.create(team=communications, name=f"search {n}", query="ICO", interval_minutes=2)
        SavedSearchPlatform.objects.create(saved_search=search, platform="x", next_run_at=clock())
    for n in range(2):
        Channel.objects.create(platform="x", channel=f"list:{n + 1}", interval_minutes=2, next_run_at=clock())

    deferred_seen = 0
    for _tick in range(90):  # an hour and a half of dispatcher ticks, a minute apart
        claims = harvest_dispatch_due(now=clock())
        for claim in claims:
            run = harvest.run(
                harvest.KINDS[claim.kind], pk=claim.pk, token=claim.token, max_pages=3,
                source=FakeSource(server=server, page_size=1, prefix=f"{claim.kind}{claim.pk}"), clock=clock,
            )
            assert run.status == "ok", run.errors
            clock.advance(seconds=1)  # a run takes a moment
        state = budget_states([budget_for("x", credential_id=credential.pk)]).popitem()[1]
        deferred_seen = max(deferred_seen, state.deferred)
        clock.advance(seconds=60 - len(claims))

    assert server.refused == 0 and server.most_in_one_window <= LIMIT
    assert server.requests == HarvestRun.objects.filter(pages__gt=0).count()  # one page per request, none wasted
    # The platform could serve 18 windows × 10 requests in that time: it was the limit, not the schedule.
    assert server.requests >= 17 * LIMIT
    assert deferred_seen > 0

    runs = Counter(
        (run.saved_search_id, run.channel_id) for run in HarvestRun.objects.filter(pages__gt=0)
    )
    assert len(runs) == 42  # every search and channel ran
    assert min(runs.values()) >= 3 and max(runs.values()) - min(runs.values()) <= 1  # and in turn

