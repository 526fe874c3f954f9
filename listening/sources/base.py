"""What every platform source shares: pages, faults and the `Source` interface.

A source turns either a query (a *search harvest*, where the platform searches on its
own side) or a channel string (a *channel harvest*: a feed, the organisation's own
account, an X list) plus a stored cursor into pages of normalised `Post`s. It never
sleeps to wait out a platform: a rate limit is raised as `RateLimited` with the
platform's reset time, and the scheduler reschedules.
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator

from listening.posts import Post


@dataclass(frozen=True)
class RateLimitState:
    """What the platform's own headers said about the request budget, when it said it."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None


@dataclass(frozen=True)
class Page:
    """One page of posts and the cursor to store once the page is safely ingested."""

    posts: list[Post]
    cursor: dict
    skipped: list[str] = field(default_factory=list)  # malformed items, recorded on the run
    has_more: bool = False
    # Requests made to the platform for this page, and the budget the last one reported.
    requests: int = 1
    rate_limit: RateLimitState | None = None
    # Things the health page should show: a permanent redirect followed, a missing feature.
    notes: list[str] = field(default_factory=list)

    @property
    def read(self) -> int:
        """Items read from the platform for this page, billable or not."""
        return len(self.posts) + len(self.skipped)


class HarvestError(Exception):
    """A platform fault that ends this run; `status` says which kind for the health page."""

    status = "error"


class BadCredentials(HarvestError):
    """401/403, or a sign-in refused: polling stops until the credential is replaced."""

    status = "bad_credentials"


class RateLimited(HarvestError):
    """The platform said to wait; the whole credential waits until `retry_at`."""

    status = "rate_limited"

    def __init__(self, message: str, *, retry_at: datetime, rate_limit: RateLimitState | None = None):
        super().__init__(message)
        self.retry_at = retry_at
        self.rate_limit = rate_limit


class MalformedPage(HarvestError):
    """The platform answered with something that is not a page (invalid JSON, an HTML
    error page, a truncated or oversized body). The run fails; the cursor stays."""


class PlatformUnavailable(HarvestError):
    """5xx answers or timeouts that outlasted the bounded retries."""


class Source(ABC):
    """Reads one platform.

    `pages()` yields pages lazily: the caller stores each page (and its cursor) in
    one transaction before asking for the next, so a run stopped between pages
    resumes exactly where it left off. A source instance holds no state between runs
    except what it keeps in its cursor (or in a shared cache, for sign-in sessions).
    """

    platform: str = ""
    # Whether the platform can search on its own side (search harvests).
    supports_search: bool = True

    def __init__(self, *, credentials: Mapping[str, str] | None = None, base_url: str | None = None):
        self.credentials = dict(credentials or {})
        self.base_url = (base_url or "").rstrip("/")

    @abstractmethod
    def pages(self, *, query=None, channel: str | None = None, cursor: dict, max_pages: int) -> Iterator[Page]:
        """Pages for a query (search harvest) or a channel string (channel harvest)."""

    def check_connection(self) -> str:
        """One cheap authenticated request. Returns what it found ("signed in as @x");
        raises `HarvestError` (usually `BadCredentials`) with the platform's own message."""
        raise HarvestError(f"{self.platform} has no connection check.")

    @classmethod
    def channel_error(cls, channel: str) -> str:
        """Why `channel` is not a channel this platform understands, or "" if it is."""
        return f"{cls.platform or 'This platform'} has no channels."
