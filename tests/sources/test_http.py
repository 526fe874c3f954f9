"""PlatformHttp: bounded retries with backoff, rate-limit signals, credential faults,
body caps and pages that are not pages, against a real local server."""

import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from listening.sources.base import BadCredentials, HarvestError, MalformedPage, PlatformUnavailable, RateLimited
from listening.sources.http import (
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    DEFAULT_RATE_LIMIT_WAIT,
    PlatformHttp,
    Transient,
    parse_json,
    reset_from_epoch,
    reset_from_iso,
    reset_from_retry_after,
    with_retries,
)
from tests.fakes.server import FakeServer, Reply

pytestmark = pytest.mark.timeout(60)

PATH = "/api/things"


@pytest.fixture
def server():
    with FakeServer() as fake:
        fake.route("GET", PATH, lambda request: Reply.json({"things": [1, 2, 3]}))
        yield fake


def client(server, *, sleeps=None, reset_parser=reset_from_epoch, prefix="x-rate-limit-", **kwargs):
    sleeps = [] if sleeps is None else sleeps
    return PlatformHttp(
        platform="testplatform",
        base_url=server.url,
        rate_limit_prefix=prefix,
        reset_parser=reset_parser,
        sleep=sleeps.append,
        **kwargs,
    )


def near(moment: datetime, expected: datetime, seconds: int = 5) -> bool:
    return abs((moment - expected).total_seconds()) <= seconds


# --------------------------------------------------------------------------- retries


def test_it_retries_server_errors_with_bounded_jittered_backoff_then_succeeds(server):
    server.script("GET", PATH, Reply(status=502), Reply(status=503))
    sleeps = []
    http = client(server, sleeps=sleeps)
    assert http.get_json(PATH) == {"things": [1, 2, 3]}
    assert len(server.requests(PATH)) == 3
    assert http.take_requests() == 3
    assert len(sleeps) == 2
    for attempt, delay in enumerate(sleeps):
        assert 0 <= delay <= min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)


def test_it_gives_up_after_a_bounded_number_of_attempts(server):
    server.script("GET", PATH, *[Reply(status=500)] * 10)
    sleeps = []
    http = client(server, sleeps=sleeps, retries=2)
    with pytest.raises(PlatformUnavailable, match="after 3 attempts"):
        http.get_json(PATH)
    assert len(server.requests(PATH)) == 3
    assert len(sleeps) == 2


def test_it_retries_a_refused_connection_and_reports_it():
    with FakeServer() as fake:
        url = fake.url
    sleeps = []
    http = PlatformHttp(platform="testplatform", base_url=url, sleep=sleeps.append, retries=1)
    with pytest.raises(PlatformUnavailable, match="connection failed"):
        http.get_json(PATH)
    assert len(sleeps) == 1


def test_with_retries_never_retries_faults_that_are_not_transient():
    calls = []

    def call():
        calls.append(1)
        raise BadCredentials("no")

    with pytest.raises(BadCredentials):
        with_retries(call, what="x", sleep=lambda s: None)
    assert len(calls) == 1


def test_with_retries_backoff_never_passes_the_cap():
    sleeps = []

    def call():
        raise Transient("HTTP 500")

    with pytest.raises(PlatformUnavailable):
        with_retries(call, what="x", retries=12, sleep=sleeps.append)
    assert len(sleeps) == 12
    assert max(sleeps) <= BACKOFF_CAP_SECONDS


# --------------------------------------------------------------------------- rate limits


def test_a_429_with_an_epoch_reset_waits_until_then_after_one_request(server):
    reset = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=12)
    server.script(
        "GET",
        PATH,
        Reply.json(
            {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
            status=429,
            headers={"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(reset.timestamp()))},
        ),
    )
    sleeps = []
    http = client(server, sleeps=sleeps)
    with pytest.raises(RateLimited) as caught:
        http.get_json(PATH)
    assert caught.value.retry_at == reset
    assert caught.value.rate_limit.limit == 450
    assert caught.value.rate_limit.remaining == 0
    assert len(server.requests(PATH)) == 1
    assert sleeps == []


def test_a_429_with_an_iso_reset_waits_until_then(server):
    reset = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=3)
    server.script(
        "GET",
        PATH,
        Reply.json(
            {"error": "Too many requests"},
            status=429,
            headers={
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            },
        ),
    )
    http = client(server, prefix="x-ratelimit-", reset_parser=reset_from_iso)
    with pytest.raises(RateLimited, match="Too many requests") as caught:
        http.get_json(PATH)
    assert caught.value.retry_at == reset
    assert len(server.requests(PATH)) == 1


def test_a_429_with_retry_after_seconds_waits_that_long(server):
    server.script("GET", PATH, Reply(status=429, headers={"Retry-After": "90"}))
    http = client(server)
    with pytest.raises(RateLimited) as caught:
        http.get_json(PATH)
    assert near(caught.value.retry_at, datetime.now(timezone.utc) + timedelta(seconds=90))


def test_a_503_with_an_http_date_retry_after_is_a_wait_not_a_retry_storm(server):
    when = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=7)
    server.script("GET", PATH, Reply(status=503, headers={"Retry-After": format_datetime(when, usegmt=True)}))
    sleeps = []
    http = client(server, sleeps=sleeps)
    with pytest.raises(RateLimited) as caught:
        http.get_json(PATH)
    assert caught.value.retry_at == when
    assert len(server.requests(PATH)) == 1 and sleeps == []


def test_a_429_without_a_reset_waits_the_default_time(server):
    server.script("GET", PATH, Reply(status=429))
    with pytest.raises(RateLimited) as caught:
        client(server).get_json(PATH)
    assert near(caught.value.retry_at, datetime.now(timezone.utc) + DEFAULT_RATE_LIMIT_WAIT)


def test_a_reset_years_away_is_capped_at_a_day(server):
    server.script("GET", PATH, Reply(status=429, headers={"x-rate-limit-reset": "4102444800"}))  # 2100
    with pytest.raises(RateLimited) as caught:
        client(server).get_json(PATH)
    assert near(caught.value.retry_at, datetime.now(timezone.utc) + timedelta(days=1))


def test_it_keeps_the_budget_the_headers_report_on_success(server):
    reset = int(datetime.now(timezone.utc).timestamp()) + 600
    server.script(
        "GET",
        PATH,
        Reply.json({"ok": True}, headers={"x-rate-limit-limit": "450", "x-rate-limit-remaining": "449", "x-rate-limit-reset": str(reset)}),
    )
    http = client(server)
    http.get_json(PATH)
    assert http.last_rate_limit.limit == 450
    assert http.last_rate_limit.remaining == 449
    assert http.last_rate_limit.reset_at == datetime.fromtimestamp(reset, tz=timezone.utc)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("1714560000", datetime(2024, 5, 1, 10, 40, tzinfo=timezone.utc)),
        ("1714560000.0", datetime(2024, 5, 1, 10, 40, tzinfo=timezone.utc)),
        ("", None),
        (None, None),
        ("soon", None),
        ("inf", None),
        ("nan", None),
        ("1e400", None),
    ],
)
def test_reset_from_epoch(value, expected):
    assert reset_from_epoch(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-05-01T10:40:00.000Z", datetime(2024, 5, 1, 10, 40, tzinfo=timezone.utc)),
        ("2024-05-01T11:40:00+01:00", datetime(2024, 5, 1, 10, 40, tzinfo=timezone.utc)),
        ("2024-05-01T10:40:00", datetime(2024, 5, 1, 10, 40, tzinfo=timezone.utc)),
        ("not a time", None),
        ("", None),
    ],
)
def test_reset_from_iso(value, expected):
    assert reset_from_iso(value) == expected


def test_reset_from_retry_after_reads_seconds_and_dates_and_refuses_nonsense():
    now = datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)
    assert reset_from_retry_after("120", now=now) == now + timedelta(seconds=120)
    assert reset_from_retry_after("Wed, 01 May 2024 10:05:00 GMT", now=now) == now + timedelta(minutes=5)
    assert reset_from_retry_after("99999999999", now=now) == now + timedelta(days=7)
    assert reset_from_retry_after("-5", now=now) is None
    assert reset_from_retry_after("tomorrow", now=now) is None


# --------------------------------------------------------------------------- credentials and other errors


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_credential_is_bad_credentials_with_the_platforms_words(server, status):
    server.script("GET", PATH, Reply.json({"error": "The access token is invalid"}, status=status))
    sleeps = []
    with pytest.raises(BadCredentials, match=f"\\({status}\\): The access token is invalid"):
        client(server, sleeps=sleeps).get_json(PATH)
    assert len(server.requests(PATH)) == 1 and sleeps == []


def test_another_client_error_fails_at_once_with_the_platforms_words(server):
    server.script("GET", PATH, Reply.json({"error": "Record not found"}, status=404))
    with pytest.raises(HarvestError, match="HTTP 404: Record not found") as caught:
        client(server).get_json(PATH)
    assert type(caught.value) is HarvestError
    assert len(server.requests(PATH)) == 1


# --------------------------------------------------------------------------- pages that are not pages


def test_an_html_error_page_is_a_malformed_page(server):
    server.script("GET", PATH, Reply.html("<!DOCTYPE html><html><body><h1>We'll be right back</h1></body></html>"))
    with pytest.raises(MalformedPage, match="an HTML page"):
        client(server).get_json(PATH)


def test_invalid_json_is_a_malformed_page(server):
    server.script("GET", PATH, Reply.raw('{"things": [1, 2,'))
    with pytest.raises(MalformedPage, match="invalid JSON"):
        client(server).get_json(PATH)


def test_a_body_cut_short_is_a_malformed_page_not_retried(server):
    body = json.dumps({"things": list(range(500))}).encode()
    server.script("GET", PATH, Reply.raw(body, truncate_at=len(body) // 2))
    sleeps = []
    with pytest.raises(MalformedPage, match="truncated"):
        client(server, sleeps=sleeps).get_json(PATH)
    assert len(server.requests(PATH)) == 1 and sleeps == []


def test_hostile_nesting_is_a_malformed_page(server):
    server.script("GET", PATH, Reply.raw(b"[" * 200_000 + b"]" * 200_000))
    with pytest.raises(MalformedPage):
        client(server).get_json(PATH)


def test_a_declared_body_over_the_cap_is_refused(server):
    server.script("GET", PATH, Reply.json({"padding": "x" * 5000}))
    with pytest.raises(MalformedPage, match="over the 1,000-byte cap"):
        client(server, max_body_bytes=1000).get_json(PATH)


def test_an_undeclared_body_over_the_cap_is_refused_while_reading(server):
    server.script("GET", PATH, Reply.json({"padding": "x" * 50_000}, chunk_size=1000))
    with pytest.raises(MalformedPage, match="over the 10,000-byte cap"):
        client(server, max_body_bytes=10_000).get_json(PATH)


def test_a_chunked_body_under_the_cap_is_read_whole(server):
    server.script("GET", PATH, Reply.json({"padding": "x" * 5000}, chunk_size=700))
    assert client(server, max_body_bytes=10_000).get_json(PATH) == {"padding": "x" * 5000}


def test_a_body_dripped_slower_than_the_deadline_is_given_up(server):
    server.script("GET", PATH, Reply.json({"padding": "x" * 4000}, chunk_size=100, pause=0.05))
    with pytest.raises(PlatformUnavailable, match="took over 0.2 s"):
        client(server, retries=0, body_seconds=0.2).get_json(PATH)


def test_parse_json_names_what_it_was_reading():
    import httpx

    response = httpx.Response(200, content=b"<html>oops</html>", headers={"content-type": "text/html"})
    with pytest.raises(MalformedPage, match="the tag timeline: the platform answered with an HTML page"):
        parse_json(response, what="the tag timeline")
