"""A test-only platform: numbered posts, a request budget it enforces, and faults on demand.

`FakePlatform` plays the platform's side: it counts requests per window on a clock
the test controls and answers "rate limited" past its limit, as X does. `FakeSource`
is the `Source` a harvest reads through it. Tests register `FakeSource` for a
platform code with `use_fake_source`, so `get_source` (and the Celery task) finds it.
"""

from datetime import datetime, timedelta, timezone

import pytest

from listening.posts import Post
from listening.sources import BadCredentials, Page, RateLimited, RateLimitState, Source
from listening.sources import registry

PATH = "tests.listening.fake_source.FakeSource"


class FakeClock:
    def __init__(self, start: datetime | None = None):
        self.now = start or datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class FakePlatform:
    """The platform's own accounting: `limit` requests per `window`, then 429s."""

    def __init__(self, *, limit: int = 1000, window: timedelta = timedelta(minutes=15), clock=None):
        self.limit, self.window, self.clock = limit, window, clock or FakeClock()
        self.window_end: datetime | None = None
        self.used = 0
        self.requests = 0
        self.refused = 0
        self.most_in_one_window = 0
        # Faults by request number (1 = the first request): the platform answers with that instead.
        self.faults: dict[int, BaseException] = {}

    def request(self) -> RateLimitState:
        now = self.clock()
        if self.window_end is None or now >= self.window_end:
            self.window_end, self.used = now + self.window, 0
        self.requests += 1
        if self.requests in self.faults:
            raise self.faults[self.requests]
        if self.used >= self.limit:
            self.refused += 1
            state = RateLimitState(limit=self.limit, remaining=0, reset_at=self.window_end)
            raise RateLimited("x rate limit: Too Many Requests", retry_at=self.window_end, rate_limit=state)
        self.used += 1
        self.most_in_one_window = max(self.most_in_one_window, self.used)
        return RateLimitState(limit=self.limit, remaining=self.limit - self.used, reset_at=self.window_end)


class FakeSource(Source):
    platform = "x"
    supports_search = True
    # The platform every instance made by get_source talks to; set by `use_fake_source`.
    shared_platform: FakePlatform | None = None

    def __init__(
        self, *, credentials=None, base_url=None, server: FakePlatform | None = None, page_size: int = 2, prefix="p", notes=()
    ):
        super().__init__(credentials=credentials, base_url=base_url)
        self.notes = list(notes)
        self.server = server or self.shared_platform or FakePlatform()
        self.page_size = page_size
        self.prefix = prefix
        self.asked: list[dict] = []

    def pages(self, *, query=None, channel=None, cursor, max_pages):
        self.asked.append({"query": query, "channel": channel, "cursor": dict(cursor)})
        token = self.credentials.get("bearer_token", "")
        if token == "revoked" or token.startswith("echo-"):
            self.server.request()
            raise BadCredentials(f"authentication failed (401): the token {token} is not valid")
        offset = int(cursor.get("offset", 0))
        for _ in range(max_pages):
            state = self.server.request()
            posts = [
                Post(
                    platform=self.platform,
                    external_id=f"{self.prefix}-{offset + i}",
                    text=f"Post {offset + i} about the ICO and FOI",
                    author_handle="someone",
                    created_at=self.server.clock(),
                )
                for i in range(self.page_size)
            ]
            offset += self.page_size
            yield Page(posts=posts, cursor={"offset": offset}, has_more=True, requests=1, rate_limit=state, notes=self.notes)

    def check_connection(self) -> str:
        self.server.request()
        token = self.credentials.get("bearer_token")
        if token and token.startswith("echo-"):
            # Some platforms quote the token they refused.
            raise BadCredentials(f"authentication failed (401): the token {token} is not valid")
        if token in (None, "", "revoked"):
            raise BadCredentials("authentication failed (401): Unauthorized")
        return "Signed in as @ico_news"

    @classmethod
    def channel_error(cls, channel: str) -> str:
        if channel == "mentions" or (channel.startswith("list:") and channel[5:].isdigit()):
            return ""
        return "An X channel is mentions or list:<numeric id>."


class FeedSource(FakeSource):
    """A platform without search, like news feeds: channels only."""

    platform = "rss"
    supports_search = False

    @classmethod
    def channel_error(cls, channel: str) -> str:
        return "" if channel.startswith(("http://", "https://")) else "A news feed channel is the feed's http(s) URL."


@pytest.fixture
def clean_redis():
    from listening.budgets import redis_client

    client = redis_client()
    for pattern in ("earshot:budget*", "earshot:reads:*"):
        for key in client.scan_iter(match=pattern, count=500):
            client.delete(key)
    yield client


@pytest.fixture
def use_fake_source(monkeypatch, clean_redis):
    """Install FakeSource as `x` (and FeedSource as `rss`); returns the shared fake platform."""
    server = FakePlatform()
    monkeypatch.setitem(registry.SOURCES, "x", PATH)
    monkeypatch.setitem(registry.SOURCES, "rss", "tests.listening.fake_source.FeedSource")
    monkeypatch.setattr(FakeSource, "shared_platform", server)
    return server
