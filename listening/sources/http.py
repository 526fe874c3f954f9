"""HTTP for sources: bounded retries with backoff and jitter, rate-limit signals,
credential faults and malformed bodies turned into the faults in `base`.

Every platform on httpx goes through `PlatformHttp.request`; X goes through tweepy
and uses `with_retries` for the same retry policy.
"""

import email.utils
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TypeVar

import httpx

from listening.sources.base import (
    BadCredentials,
    HarvestError,
    MalformedPage,
    PlatformUnavailable,
    RateLimited,
    RateLimitState,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_RETRIES = 3
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
DEFAULT_TIMEOUT_SECONDS = 15.0
MAX_BODY_BYTES = 5 * 1024 * 1024
# A whole body must arrive within this many (per-read) timeouts.
BODY_TIMEOUTS = 4
# When a platform says 429 but gives no reset time, wait this long.
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=5)
USER_AGENT = "Earshot/0.1 (self-hosted social listening; +https://github.com/earshot)"


class Transient(Exception):
    """A fault worth retrying: a timeout, a dropped connection, a 5xx."""


def backoff_delay(attempt: int, *, base: float = BACKOFF_BASE_SECONDS, cap: float = BACKOFF_CAP_SECONDS) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    return random.uniform(0, min(cap, base * (2**attempt)))


def with_retries(call: Callable[[], T], *, what: str, retries: int = MAX_RETRIES, sleep=time.sleep) -> T:
    """Run `call`, retrying `Transient` faults a bounded number of times.

    Anything else (rate limits, bad credentials, malformed pages) is raised at once:
    retrying those would only make a storm.
    """
    for attempt in range(retries + 1):
        try:
            return call()
        except Transient as fault:
            if attempt == retries:
                raise PlatformUnavailable(f"{what} failed after {retries + 1} attempts: {fault}") from None
            delay = backoff_delay(attempt)
            log.info("%s: %s; retrying in %.1f s", what, fault, delay)
            sleep(delay)
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- reset times


def reset_from_epoch(value: str | None) -> datetime | None:
    """X's `x-rate-limit-reset` and Bluesky's `RateLimit-Reset`: seconds since the epoch."""
    try:
        return datetime.fromtimestamp(int(float(value)), tz=timezone.utc) if value else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def reset_from_iso(value: str | None) -> datetime | None:
    """Mastodon's `X-RateLimit-Reset`: an ISO 8601 timestamp."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def reset_from_retry_after(value: str | None, *, now: datetime | None = None) -> datetime | None:
    """`Retry-After`: delta seconds or an HTTP date."""
    if not value:
        return None
    now = now or datetime.now(timezone.utc)
    value = value.strip()
    if value.isdigit():
        return now + timedelta(seconds=min(int(value), 7 * 24 * 3600))
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(headers.get(name, ""))
    except (TypeError, ValueError):
        return None


def rate_limit_state(headers: Mapping[str, str], *, prefix: str, reset_parser) -> RateLimitState | None:
    """`<prefix>limit`, `<prefix>remaining` and `<prefix>reset`, when the platform sent them."""
    limit = _int_header(headers, f"{prefix}limit")
    remaining = _int_header(headers, f"{prefix}remaining")
    reset_at = reset_parser(headers.get(f"{prefix}reset"))
    if limit is None and remaining is None and reset_at is None:
        return None
    return RateLimitState(limit=limit, remaining=remaining, reset_at=reset_at)


def error_text(body: bytes | str, limit: int = 300) -> str:
    """The platform's own error message from a body, shortened, for the health page."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("error_description", "message", "detail", "error", "title"):
            if isinstance(data.get(key), str) and data[key]:
                return data[key][:limit]
        if isinstance(data.get("errors"), list) and data["errors"]:
            first = data["errors"][0]
            if isinstance(first, dict):
                return str(first.get("message") or first.get("detail") or first)[:limit]
    text = " ".join(body.split())
    return (text[:limit] + "…") if len(text) > limit else text


# --------------------------------------------------------------------------- httpx


class PlatformHttp:
    """One platform's HTTP client.

    `rate_limit_prefix` and `reset_parser` read the platform's budget headers;
    `last_rate_limit` and `requests` are what the last page's requests reported.
    `classify_error`, when given, sees every 4xx/5xx response (its body read) before
    the default mapping and may raise a fault of its own: platforms whose error
    bodies say more than the status (Bluesky's 400 "ExpiredToken") need this.
    """

    def __init__(
        self,
        *,
        platform: str,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        rate_limit_prefix: str = "x-ratelimit-",
        reset_parser=reset_from_epoch,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        retries: int = MAX_RETRIES,
        max_body_bytes: int = MAX_BODY_BYTES,
        transport: httpx.BaseTransport | None = None,
        sleep=time.sleep,
        classify_error: Callable[[httpx.Response], None] | None = None,
        body_seconds: float | None = None,
    ):
        self.platform = platform
        self.classify_error = classify_error
        self.body_seconds = body_seconds if body_seconds is not None else timeout * BODY_TIMEOUTS
        self.rate_limit_prefix = rate_limit_prefix
        self.reset_parser = reset_parser
        self.retries = retries
        self.max_body_bytes = max_body_bytes
        self.sleep = sleep
        self.client = httpx.Client(
            base_url=base_url,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )
        self.last_rate_limit: RateLimitState | None = None
        self.requests = 0

    def close(self) -> None:
        self.client.close()

    def take_requests(self) -> int:
        """Requests made since the last call: what one page cost."""
        count, self.requests = self.requests, 0
        return count

    def request(self, method: str, url: str, *, what: str = "", **kwargs) -> httpx.Response:
        """Send with bounded retries; return a 2xx/3xx response whose body is read (and capped).

        Raises RateLimited (429, or the budget header says 0 left on an error),
        BadCredentials (401/403), MalformedPage (a body over the cap),
        PlatformUnavailable (5xx/timeouts after retries) or HarvestError (other 4xx).
        """
        what = what or f"{self.platform} {method} {url.split('?')[0]}"
        return with_retries(lambda: self._send_once(method, url, what=what, **kwargs), what=what, retries=self.retries, sleep=self.sleep)

    def get_json(self, url: str, *, what: str = "", **kwargs):
        response = self.request("GET", url, what=what, **kwargs)
        return parse_json(response, what=what or url)

    def _send_once(self, method: str, url: str, *, what: str, **kwargs) -> httpx.Response:
        self.requests += 1
        try:
            with self.client.stream(method, url, **kwargs) as response:
                body = self._read_capped(response, what)
        except httpx.TimeoutException as error:
            raise Transient(f"timed out ({error.__class__.__name__})") from None
        except httpx.TransportError as error:
            raise Transient(f"connection failed ({error.__class__.__name__})") from None
        state = rate_limit_state(response.headers, prefix=self.rate_limit_prefix, reset_parser=self.reset_parser)
        if state is not None:
            self.last_rate_limit = state
        status = response.status_code
        if status >= 400 and self.classify_error is not None:
            self.classify_error(response)
        if status == 429:
            raise RateLimited(
                f"{self.platform} rate limit: {error_text(body) or 'too many requests'}",
                retry_at=self._retry_at(response, state),
                rate_limit=state,
            )
        if status in (401, 403):
            raise BadCredentials(f"authentication failed ({status}): {error_text(body) or response.reason_phrase}")
        if status >= 500:
            if status == 503 and response.headers.get("retry-after"):
                raise RateLimited(
                    f"{self.platform} is unavailable and asked to wait",
                    retry_at=self._retry_at(response, state),
                    rate_limit=state,
                )
            raise Transient(f"HTTP {status}")
        if status >= 400:
            raise HarvestError(f"{what}: HTTP {status}: {error_text(body) or response.reason_phrase}")
        return response

    def _read_capped(self, response: httpx.Response, what: str) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise MalformedPage(f"{what}: the body is {int(declared):,} bytes, over the {self.max_body_bytes:,}-byte cap")
        # The read timeout restarts with every chunk, so a server dripping bytes could
        # hold a worker for ever: the whole body must arrive within this time.
        deadline = time.monotonic() + self.body_seconds
        chunks, size = [], 0
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise MalformedPage(f"{what}: the body is over the {self.max_body_bytes:,}-byte cap")
                if time.monotonic() > deadline:
                    raise Transient(f"the body took over {self.body_seconds:g} s to arrive")
                chunks.append(chunk)
        except (httpx.RemoteProtocolError, httpx.DecodingError) as error:
            # The headers arrived but the body is cut short or garbled: not a page.
            raise MalformedPage(f"{what}: the body was truncated or garbled ({error.__class__.__name__})") from None
        body = b"".join(chunks)
        response._content = body  # the body is read: .content/.text/.json() work after the stream closes
        return body

    def _retry_at(self, response: httpx.Response, state: RateLimitState | None) -> datetime:
        now = datetime.now(timezone.utc)
        for candidate in (
            state.reset_at if state else None,
            reset_from_retry_after(response.headers.get("retry-after"), now=now),
        ):
            if candidate is not None and candidate > now:
                return min(candidate, now + timedelta(days=1))
        return now + DEFAULT_RATE_LIMIT_WAIT


def parse_json(response: httpx.Response, *, what: str):
    """The JSON body, or MalformedPage for HTML error pages, truncated or invalid JSON."""
    content_type = response.headers.get("content-type", "")
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: hostile nesting
        kind = "an HTML page" if "html" in content_type or response.content.lstrip()[:1] == b"<" else "invalid JSON"
        raise MalformedPage(f"{what}: the platform answered with {kind}, not a page of posts") from None
