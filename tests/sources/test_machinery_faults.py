"""What the harvest machinery does with each fault a source raises: rate limits, refused
credentials, queries a platform cannot run, and a run that takes too long."""

from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from listening import services, tasks
from listening.credentials import credential_save
from listening.models import Channel, HarvestRun, PlatformCredential, SavedSearch, SavedSearchPlatform
from listening.query import QueryNotSupported
from listening.sources import RateLimited, RateLimitState
from tests.listening.fake_source import FakeClock, FakeSource, clean_redis, use_fake_source  # noqa: F401


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def x_world(communications, admin_user, use_fake_source, clock):
    """Two saved searches and a mentions channel on X, one credential, all due at the fake time."""
    use_fake_source.clock = clock
    credential = credential_save(platform="x", values={"bearer_token": "good"}, actor=admin_user)
    states = []
    for name in ("ICO", "FOI"):
        search = SavedSearch.objects.create(team=communications, name=name, query=name, interval_minutes=2)
        states.append(SavedSearchPlatform.objects.create(saved_search=search, platform="x", next_run_at=clock()))
    channel = Channel.objects.create(platform="x", channel="mentions", next_run_at=clock(), interval_minutes=2)
    return {"credential": credential, "states": states, "channel": channel, "server": use_fake_source}


def _all_due(world, when):
    SavedSearchPlatform.objects.filter(pk__in=[s.pk for s in world["states"]]).update(next_run_at=when)
    Channel.objects.filter(pk=world["channel"].pk).update(next_run_at=when)


def _run_all(claims, clock):
    return [services.harvest_kind_run(kind=c.kind, pk=c.pk, token=c.token, clock=clock) for c in claims]


@pytest.mark.parametrize("budgets", [None, {}], ids=["configured budget", "no configured budget"])
def test_a_rate_limit_defers_every_search_and_channel_on_that_credential_until_its_reset(x_world, clock, budgets, settings):
    if budgets is not None:
        settings.EARSHOT_REQUEST_BUDGETS = budgets  # a credential still shares one budget
    server = x_world["server"]
    reset = clock() + timedelta(minutes=10)
    server.faults[1] = RateLimited("x rate limit: Too Many Requests", retry_at=reset, rate_limit=RateLimitState(450, 0, reset))
    claims = services.harvest_dispatch_due(now=clock())
    assert len(claims) == 3

    runs = _run_all(claims, clock)
    assert [r.status for r in runs] == ["rate_limited"] * 3
    assert server.requests == 1  # the others waited without asking: no storm
    assert runs[0].rate_limit_waits == 1
    for state in SavedSearchPlatform.objects.all():
        assert state.next_run_at == reset and state.last_status == "rate_limited"
    assert Channel.objects.get().next_run_at == reset

    # Even when every row is due again, nothing on the credential runs before the reset.
    _all_due(x_world, clock())
    assert services.harvest_dispatch_due(now=clock.advance(minutes=5)) == []
    clock.now = reset + timedelta(seconds=1)
    claims = services.harvest_dispatch_due(now=clock())
    assert len(claims) == 3
    assert {r.status for r in _run_all(claims, clock)} == {"ok"}


def test_bad_credentials_stop_polling_until_the_credential_is_replaced(x_world, clock, admin_user):
    credential = x_world["credential"]
    credential_save(platform="x", values={"bearer_token": "revoked"}, actor=admin_user, credential=credential)
    server = x_world["server"]
    runs = _run_all(services.harvest_dispatch_due(now=clock()), clock)
    assert [r.status for r in runs] == ["bad_credentials"] * 3
    assert server.requests == 1  # once refused, the other claimed runs did not ask again
    credential.refresh_from_db()
    assert credential.state == "failed" and "401" in credential.last_error
    assert "revoked" not in credential.last_error  # the platform quoted the token: it is blanked out

    _all_due(x_world, clock())
    assert services.harvest_dispatch_due(now=clock.advance(hours=6)) == []
    for state in SavedSearchPlatform.objects.all():
        assert state.last_status == "bad_credentials" and state.last_error.startswith("authentication failed")
    assert server.requests == 1

    credential_save(platform="x", values={"bearer_token": "good"}, actor=admin_user, credential=credential)
    runs = _run_all(services.harvest_dispatch_due(now=clock()), clock)
    assert [r.status for r in runs] == ["ok"] * 3


def test_without_credentials_a_platform_that_needs_them_waits_and_says_so(x_world, clock):
    PlatformCredential.objects.all().delete()
    assert services.harvest_dispatch_due(now=clock()) == []
    state = SavedSearchPlatform.objects.first()
    assert state.last_status == "error" and "No X credentials yet" in state.last_error


def test_a_query_the_platform_cannot_run_ends_the_run_with_its_reason(x_world, clock):
    class CannotSearch(FakeSource):
        def pages(self, **kwargs):
            raise QueryNotSupported("X has no NEAR operator: use a phrase instead.")
            yield

    state = x_world["states"][0]
    token = services.harvest_claim(state_id=state.pk, now=clock())
    run = services.harvest_run(state_id=state.pk, token=token, source=CannotSearch(), clock=clock)
    state.refresh_from_db()
    assert run.status == "error" and run.errors == ["X has no NEAR operator: use a phrase instead."]
    assert state.last_error == "X has no NEAR operator: use a phrase instead." and state.claim_token is None


def test_the_harvest_task_declares_a_soft_time_limit_below_its_hard_limit():
    assert tasks.harvest.soft_time_limit == settings.EARSHOT_HARVEST_SOFT_TIME_LIMIT
    assert tasks.harvest.time_limit > tasks.harvest.soft_time_limit


def test_a_harvest_that_takes_too_long_is_recorded_and_its_claim_released(x_world):
    server = x_world["server"]
    server.clock = timezone.now
    server.faults[2] = SoftTimeLimitExceeded()
    state = x_world["states"][0]
    SavedSearchPlatform.objects.filter(pk=state.pk).update(next_run_at=timezone.now())
    token = services.harvest_claim(state_id=state.pk)

    tasks.harvest(state.pk, str(token))

    run = HarvestRun.objects.get()
    state.refresh_from_db()
    assert (run.status, run.errors, run.pages) == ("timed_out", ["stopped: took too long"], 1)
    assert run.finished_at is not None
    assert state.last_status == "timed_out" and state.last_error == "stopped: took too long"
    assert state.claim_token is None and state.cursor == {"offset": 2}  # the page read before the limit is kept
    assert state.next_run_at > timezone.now()



def test_a_platform_error_that_quotes_the_secret_is_logged_and_recorded_without_it(
    communications, admin_user, use_fake_source, clock, caplog
):
    from listening.sources import HarvestError

    secret = "zq-logged-SECRET-4f1e"
    use_fake_source.clock = clock
    credential_save(platform="x", values={"bearer_token": secret}, actor=admin_user)
    search = SavedSearch.objects.create(team=communications, name="ICO", query="ICO", interval_minutes=2)
    SavedSearchPlatform.objects.create(saved_search=search, platform="x", next_run_at=clock())
    use_fake_source.faults[1] = HarvestError(f"search: HTTP 400: bad request with token {secret}")
    with caplog.at_level("DEBUG"):
        [run] = _run_all(services.harvest_dispatch_due(now=clock()), clock)
    assert run.status == "error" and "•••" in repr(run.errors) and secret not in repr(run.errors)
    assert "bad request with token" in caplog.text
    assert secret not in caplog.text


def test_an_unexpected_error_quoting_the_secret_is_logged_with_its_traceback_but_without_it(
    communications, admin_user, use_fake_source, clock, caplog
):
    secret = "zq-unexpected-SECRET-9b2c"
    use_fake_source.clock = clock
    credential_save(platform="x", values={"bearer_token": secret}, actor=admin_user)
    search = SavedSearch.objects.create(team=communications, name="ICO", query="ICO", interval_minutes=2)
    SavedSearchPlatform.objects.create(saved_search=search, platform="x", next_run_at=clock())
    use_fake_source.faults[1] = ValueError(f"could not parse the reply to a request signed with {secret}")
    with caplog.at_level("DEBUG"):
        [run] = _run_all(services.harvest_dispatch_due(now=clock()), clock)
    assert run.status == "error" and secret not in repr(run.errors)
    assert "Traceback (most recent call last)" in caplog.text and "ValueError: could not parse the reply" in caplog.text
    assert secret not in caplog.text
