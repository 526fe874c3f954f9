"""Mastodon (any instance): hashtag timelines, full-text search and the organisation's
notifications, over httpx.

Credentials: `access_token`; the base URL is the instance. Channels: `notifications`
(statuses that mention the organisation's account), `#tag` (that hashtag's timeline).

A search harvest reads up to three kinds of stream, each with its own cursor, taking
one page from each in turn so that no stream starves:
- the timeline of every hashtag the query names outside a NOT (at most
  `MAX_HASHTAGS`), which holds every public post with that hashtag the instance
  knows, whether or not its author opted in to search;
- `GET /api/v2/search?type=statuses` for the query compiled with `to_native`, unless
  the query cannot match a post without one of those hashtags. Mastodon's search has
  no OR, so a query that is an OR is searched one part at a time (hashtag parts are
  left to their timelines); a part Mastodon cannot express is named in a page note.
- Full-text search needs a search index, which many instances lack: they answer
  every search with no statuses. Earshot asks, at most once a day per harvest, for
  the organisation's own posts (`from:me`), which an indexed instance always finds.
  If none come back while the account has posted, the instance is taken to have no
  full-text search, and each page carries the note "full-text search is not
  available on this instance: reading hashtag timelines only" (and another if the
  search names no hashtag, so nothing can be read for it). Anything inconclusive
  counts as available. The search itself is still asked once a run, which costs one
  request on such an instance, so a server the check misread (an old Mastodon
  without `from:`, another server's search) is put right by its first answer. The
  answer is kept in the cursor (`search_check`).

Cursors:
- Timelines and notifications: `{"min_id": m}`. Asking with `min_id` gives the posts
  immediately newer than it, oldest chunk first, so each page moves `min_id` forward
  to the page's newest id (the `rel="prev"` link of Mastodon's `Link` header) with
  no gap, even if a run stops midway. A first read takes the newest page only.
  Only the ids are taken from `Link`: it is never followed to another host.
- Search answers newest first: `{"min_id": s}` between runs, and while paging back
  `{"min_id": s, "max_id": oldest so far, "pending_min_id": newest of the scan}`;
  `min_id` becomes the scan's newest only after its last page.
- Posts are deduplicated by status id across the streams of a run.

Normalising a status: the HTML content becomes plain text with its links kept
(`text.html_to_text`), after the content warning (`spoiler_text`) if there is one;
`links` are the post's links, not its mention or hashtag links; `mentions` are
`mentions[].acct`; `author_handle` is `account.acct` (`name@instance` for remote
accounts, as Mastodon gives it). A reblog is stored as the reblogger's post of kind
`repost`, with the reblogged status's text, links, mentions and address; a status
quoting another (Mastodon 4.5) is a `quote`; one with `in_reply_to_id` a `reply`,
whose `in_reply_to_handle` is the replied-to account when the status names it.
"""

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, quote, urlsplit

from listening.posts import Post
from listening.query import QueryNotSupported
from listening.query.ast import And, Near, Or, Phrase, Proximity
from listening.query.terms import HASHTAG
from listening.sources.base import BadCredentials, HarvestError, MalformedPage, Page, RateLimited, Source
from listening.sources.http import (
    DEFAULT_TIMEOUT_SECONDS,
    MAX_BODY_BYTES,
    MAX_RETRIES,
    PlatformHttp,
    parse_json,
    reset_from_iso,
)
from listening.sources.splitting import missing_note, native_parts
from listening.sources.text import html_to_text

DEFAULT_BASE_URL = "https://mastodon.social"
MAX_HASHTAGS = 10
SEARCH_CHECK_EVERY = timedelta(hours=24)
NO_SEARCH_NOTE = "full-text search is not available on this instance: reading hashtag timelines only"
NO_HASHTAG_NOTE = "this search names no hashtag, so nothing can be read for it on this instance: add one (e.g. #GDPR) to follow it here"
MAX_ID_LENGTH = 64


class Malformed(ValueError):
    """One item that cannot be read; the rest of the page is kept."""


# --------------------------------------------------------------------------- the query's hashtags


def query_hashtags(node) -> list[str]:
    """The hashtags a query names outside a NOT, without wildcards, in order, once each."""
    found: dict[str, str] = {}

    def visit(node) -> None:
        if isinstance(node, (Phrase, Proximity)):
            for term in node.terms:
                if term.kind == HASHTAG and not term.wildcard:
                    found.setdefault(term.surface.casefold(), term.surface)
        elif isinstance(node, And):
            for child, negated in node.items:
                if not negated:
                    visit(child)
        else:
            for child in node.children():
                visit(child)

    visit(node)
    return list(found.values())


def needs_hashtag(node) -> bool:
    """Whether every post the query matches carries one of the query's hashtags."""
    if isinstance(node, (Phrase, Proximity)):
        return any(term.kind == HASHTAG and not term.wildcard for term in node.terms)
    if isinstance(node, Near):
        return needs_hashtag(node.left) or needs_hashtag(node.right)
    if isinstance(node, And):
        return any(needs_hashtag(child) for child, negated in node.items if not negated)
    if isinstance(node, Or):
        return all(needs_hashtag(child) for child in node.items)
    return False


# --------------------------------------------------------------------------- normalising


def _id(value, what: str = "id") -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH or not value.isalnum():
        raise Malformed(f"{what} {str(value)[:40]!r} is not a Mastodon id")
    return value


def _order(status_id: str) -> tuple[int, str]:
    # Mastodon ids are growing integers; other servers' fixed-length ids sort as text.
    return (len(status_id), status_id)


def _newest(*ids) -> str | None:
    known = [value for value in ids if isinstance(value, str) and value]
    return max(known, key=_order) if known else None


def _created_at(value) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Malformed(f"created_at is {type(value).__name__}, not a time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Malformed(f"created_at {value[:40]!r} is not a time") from None
    if parsed.tzinfo is None:
        raise Malformed(f"created_at {value[:40]!r} has no time zone")
    return parsed.astimezone(timezone.utc)


def _text(value, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Malformed(f"{what} is {type(value).__name__}, not text")
    return value


def _objects(value, what: str) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise Malformed(f"{what} is not a list of objects")
    return value


def _lang(value) -> str:
    code = value.lower() if isinstance(value, str) else ""
    return code if len(code) == 2 and code.isascii() and code.isalpha() else ""


def _account(value) -> dict:
    if not isinstance(value, dict):
        raise Malformed("it has no account")
    _text(value.get("acct"), "account.acct")
    if not value.get("acct"):
        raise Malformed("its account has no acct")
    return value


def status_post(status) -> Post:
    """One Mastodon status as a `Post`; raises Malformed with the reason."""
    if not isinstance(status, dict):
        raise Malformed(f"an item that is {type(status).__name__}, not a status")
    status_id = _id(status.get("id"))
    try:
        account = _account(status.get("account"))
        created_at = _created_at(status.get("created_at"))
        kind = "post"
        shown = status
        if status.get("reblog") is not None:
            if not isinstance(status["reblog"], dict):
                raise Malformed("reblog is not a status")
            shown, kind = status["reblog"], "repost"
        referenced = shown.get("id") if kind == "repost" else None
        content = _text(shown.get("content"), "content")
        spoiler = _text(shown.get("spoiler_text"), "spoiler_text").strip()
        text, links = html_to_text(content)
        if spoiler:
            text = f"{spoiler}\n\n{text}" if text else spoiler
        mentions = _objects(shown.get("mentions"), "mentions")
        handles = [_text(mention.get("acct"), "mentions[].acct") for mention in mentions]
        quote_of = shown.get("quote")
        if kind == "post" and isinstance(quote_of, dict) and quote_of.get("state") == "accepted":
            kind = "quote"
            quoted = quote_of.get("quoted_status")
            referenced = quoted.get("id") if isinstance(quoted, dict) else None
        in_reply_to = ""
        if shown.get("in_reply_to_id") is not None:
            kind = "reply" if kind == "post" else kind
            replied = shown.get("in_reply_to_account_id")
            author = shown.get("account") if isinstance(shown.get("account"), dict) else {}
            if replied is not None and replied == author.get("id"):
                in_reply_to = author.get("acct") or ""  # a thread: replying to oneself
            else:
                in_reply_to = next((mention.get("acct") or "" for mention in mentions if mention.get("id") == replied), "")
        url = shown.get("url") or shown.get("uri") or status.get("url") or status.get("uri") or ""
        url = _text(url, "url")
    except Malformed as problem:
        raise Malformed(f"status {status_id}: {problem}") from None
    return Post(
        platform="mastodon",
        external_id=status_id,
        text=text,
        url=url if url.lower().startswith(("https://", "http://")) else "",
        author_handle=account["acct"].lstrip("@"),
        author_name=account.get("display_name") if isinstance(account.get("display_name"), str) else "",
        created_at=created_at,
        lang=_lang(shown.get("language")),
        links=tuple(links),
        mentions=tuple(handle.lstrip("@") for handle in handles if handle),
        in_reply_to_handle=in_reply_to if isinstance(in_reply_to, str) else "",
        kind=kind,
        referenced_id=referenced if isinstance(referenced, str) and 0 < len(referenced) <= 200 else "",
        raw=status,
    )


def link_ids(header: str | None) -> dict[str, dict[str, str]]:
    """`{"next": {"max_id": …}, "prev": {"min_id": …}}` from a `Link` header: only the
    paging ids, never the address (a hostile instance could point anywhere)."""
    found: dict[str, dict[str, str]] = {}
    for part in (header or "").split(","):
        if ";" not in part or "<" not in part or ">" not in part:
            continue
        target, _, params = part.partition(";")
        rel = next((p.split("=", 1)[1].strip().strip('"') for p in params.split(";") if p.strip().startswith("rel=")), "")
        query = parse_qs(urlsplit(target.strip().strip("<>")).query)
        ids = {key: values[0] for key, values in query.items() if key in ("max_id", "min_id", "since_id") and values}
        if rel and ids:
            found[rel] = ids
    return found


# --------------------------------------------------------------------------- streams


@dataclass
class Stream:
    """One thing a run reads: a hashtag timeline, a search, or the notifications."""

    key: str
    kind: str  # "tag", "search" or "notifications"
    value: str  # the hashtag, the search string
    state: dict = field(default_factory=dict)
    done: bool = False


class MastodonSource(Source):
    platform = "mastodon"
    supports_search = True

    def __init__(
        self,
        *,
        credentials: Mapping[str, str] | None = None,
        base_url: str | None = None,
        page_size: int = 40,
        sleep: Callable[[float], None] = time.sleep,
        retries: int = MAX_RETRIES,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_body_bytes: int = MAX_BODY_BYTES,
        now: Callable[[], datetime] | None = None,
    ):
        super().__init__(credentials=credentials, base_url=base_url or DEFAULT_BASE_URL)
        self.page_size = max(1, min(page_size, 40))
        self._search_check: dict | None = None  # this run's answer to "has the instance full-text search?"
        self.now = now or (lambda: datetime.now(timezone.utc))
        token = self.credentials.get("access_token", "")
        self.http = PlatformHttp(
            platform="mastodon",
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}"} if token else {},
            rate_limit_prefix="x-ratelimit-",
            reset_parser=reset_from_iso,
            timeout=timeout,
            retries=retries,
            max_body_bytes=max_body_bytes,
            sleep=sleep,
        )

    @classmethod
    def channel_error(cls, channel: str) -> str:
        if channel == "notifications":
            return ""
        if channel.startswith("#"):
            tag = channel[1:]
            if tag and len(tag) <= 100 and all(char.isalnum() or char == "_" for char in tag) and not tag.isdigit():
                return ""
            return f"{channel[:40]!r} is not a hashtag: use # and letters, digits or _, e.g. #GDPR."
        return f"{channel[:40]!r} is not a Mastodon channel: use notifications (the organisation's mentions) or a hashtag such as #GDPR."

    # ------------------------------------------------------------------ pages

    def pages(self, *, query=None, channel: str | None = None, cursor: dict, max_pages: int) -> Iterator[Page]:
        self._need_token()
        cursor = dict(cursor or {})
        self._search_check = None
        if channel is not None:
            problem = self.channel_error(channel)
            if problem:
                raise HarvestError(problem)
            saved = cursor.get("streams") if isinstance(cursor.get("streams"), dict) else {}
            if channel == "notifications":
                stream = Stream("notifications", "notifications", "")
            else:
                stream = Stream(f"tag:{channel[1:].casefold()}", "tag", channel[1:])
            stream.state = dict(saved.get(stream.key) or {})
            streams, notes = [stream], []
        elif query is not None:
            streams, notes = self._plan(query, cursor)
        else:
            raise HarvestError("A Mastodon harvest needs a query or a channel.")
        yield from self._read(streams, notes, cursor, max_pages)

    def _plan(self, query, cursor: dict) -> tuple[list[Stream], list[str]]:
        """The streams a search harvest reads, and the notes its pages carry."""
        saved = cursor.get("streams") if isinstance(cursor.get("streams"), dict) else {}
        hashtags = query_hashtags(query.root)
        notes: list[str] = []
        if len(hashtags) > MAX_HASHTAGS:
            notes.append(f"only the first {MAX_HASHTAGS} of the search's {len(hashtags)} hashtags are read on Mastodon")
            hashtags = hashtags[:MAX_HASHTAGS]
        searches: list[str] = []
        unsupported: QueryNotSupported | None = None
        if not needs_hashtag(query.root):
            try:
                # Hashtag parts of an OR are left to their timelines.
                searches, missing = native_parts(query, "mastodon", skip=needs_hashtag)
            except QueryNotSupported as whole:
                # Not one part could be searched: their hashtag timelines may still be read.
                unsupported = whole
                missing = [str(part) for part in query.root.items] if isinstance(query.root, Or) else []
            if missing:
                notes.append(missing_note("Mastodon", missing))
            if searches:
                self._search_available(cursor)
        if not hashtags and not searches:
            raise unsupported or QueryNotSupported("Nothing in this search can be fetched from Mastodon.")
        streams = [Stream(f"tag:{tag.casefold()}", "tag", tag) for tag in hashtags]
        streams += [Stream(f"search:{search}", "search", search) for search in searches]
        for stream in streams:
            stream.state = dict(saved.get(stream.key) or {})
        return streams, notes

    def _read(self, streams: list[Stream], notes: list[str], cursor: dict, max_pages: int) -> Iterator[Page]:
        """Pages from the streams in turn (a rotating start, so none starves)."""
        start = int(cursor.get("rotate", 0) or 0) % len(streams)
        order = streams[start:] + streams[:start]
        seen: set[str] = set()
        pages = 0
        while pages < max_pages:
            active = [stream for stream in order if not stream.done]
            if not active:
                return
            for stream in active:
                if pages >= max_pages:
                    break
                posts, skipped = self._next_page(stream, seen)
                pages += 1
                new_cursor = self._cursor(cursor, streams, rotate=start + 1)
                yield Page(
                    posts=posts,
                    cursor=new_cursor,
                    skipped=skipped,
                    has_more=any(not s.done for s in streams),
                    requests=self.http.take_requests(),
                    rate_limit=self.http.last_rate_limit,
                    notes=notes + self._search_notes(streams),
                )

    def _search_notes(self, streams: list[Stream]) -> list[str]:
        if not any(stream.kind == "search" for stream in streams) or (self._search_check or {}).get("available", True):
            return []
        if any(stream.kind == "tag" for stream in streams):
            return [NO_SEARCH_NOTE]
        return [NO_SEARCH_NOTE, NO_HASHTAG_NOTE]

    def _cursor(self, old: dict, streams: list[Stream], *, rotate: int) -> dict:
        """The whole cursor: every stream's state (streams the query no longer names are
        dropped), where the next run starts, and the last full-text search check."""
        new: dict = {"streams": {stream.key: dict(stream.state) for stream in streams if stream.state}}
        if len(streams) > 1:
            new["rotate"] = rotate % len(streams)
        check = self._search_check or old.get("search_check")
        if isinstance(check, dict):
            new["search_check"] = dict(check)
        return new

    # ------------------------------------------------------------------ one page of one stream

    def _next_page(self, stream: Stream, seen: set[str]) -> tuple[list[Post], list[str]]:
        if stream.kind == "search":
            return self._search_page(stream, seen)
        return self._timeline_page(stream, seen)

    def _timeline_page(self, stream: Stream, seen: set[str]) -> tuple[list[Post], list[str]]:
        if stream.kind == "notifications":
            path = "/api/v1/notifications"
            params: list = [("types[]", "mention"), ("limit", str(self.page_size))]
            what = "Mastodon notifications"
        else:
            path = f"/api/v1/timelines/tag/{quote(stream.value, safe='')}"
            params = [("limit", str(self.page_size))]
            what = f"Mastodon #{stream.value} timeline"
        min_id = stream.state.get("min_id")
        if min_id:
            params.append(("min_id", min_id))
        response = self.http.request("GET", path, params=params, what=what)
        items = parse_json(response, what=what)
        if not isinstance(items, list):
            raise MalformedPage(f"{what}: Mastodon answered with something that is not a list")
        statuses, skipped, ids = [], [], []
        for item in items:
            if stream.kind == "notifications":
                notification_id = item.get("id") if isinstance(item, dict) else None
                if not isinstance(notification_id, str) or not notification_id:
                    skipped.append(f"a notification without an id: {str(item)[:60]!r}")
                    continue
                ids.append(notification_id)
                if item.get("type") != "mention":
                    continue  # the instance ignored types[]: not ours
                if not isinstance(item.get("status"), dict):
                    skipped.append(f"notification {notification_id[:40]}: a mention without its status")
                    continue
                statuses.append(item["status"])
            else:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    ids.append(item["id"])
                statuses.append(item)
        posts = self._posts(statuses, skipped, seen)
        # Mastodon's Link header names the page's newest id (rel="prev"); the ids are the fallback.
        linked = link_ids(response.headers.get("link")).get("prev", {}).get("min_id")
        newest = linked if ids and isinstance(linked, str) and linked.isalnum() else _newest(*ids)
        if newest and (not min_id or _order(newest) > _order(min_id)):
            stream.state = {"min_id": newest}
        # A first read takes the newest page only; later reads go on while pages are full.
        stream.done = not min_id or len(items) < self.page_size or newest is None or newest == min_id
        return posts, skipped

    def _search_page(self, stream: Stream, seen: set[str]) -> tuple[list[Post], list[str]]:
        what = "Mastodon search"
        state = stream.state
        min_id, max_id, pending = state.get("min_id"), state.get("max_id"), state.get("pending_min_id")
        params: list = [("q", stream.value), ("type", "statuses"), ("resolve", "false"), ("limit", str(self.page_size))]
        if min_id:
            params.append(("min_id", min_id))
        if max_id:
            params.append(("max_id", max_id))
        body = self.http.get_json("/api/v2/search", params=params, what=what)
        if not isinstance(body, dict) or not isinstance(body.get("statuses", []), list):
            raise MalformedPage(f"{what}: Mastodon answered with something that is not a search result")
        items = body.get("statuses") or []
        ids = [item["id"] for item in items if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"]]
        skipped: list[str] = []
        posts = self._posts(items, skipped, seen)
        if not max_id:  # the first page of a scan: its newest post is the newest of the scan
            pending = _newest(*ids)
        if ids and self._search_check and not self._search_check.get("available"):
            # The check misread this server (its search does answer): say so from now on.
            self._search_check = {"available": True, "checked_at": self.now().isoformat()}
        oldest = min(ids, key=_order) if ids else None
        # Stop on a short page, and on one that did not move back (a server ignoring max_id).
        more = len(items) >= self.page_size and oldest is not None and (not max_id or _order(oldest) < _order(max_id))
        if more:
            stream.state = {key: value for key, value in {"min_id": min_id, "max_id": oldest, "pending_min_id": pending}.items() if value}
        else:
            newest = _newest(pending, min_id)
            stream.state = {"min_id": newest} if newest else {}
            stream.done = True
        return posts, skipped

    def _posts(self, items: list, skipped: list[str], seen: set[str]) -> list[Post]:
        posts = []
        for item in items:
            try:
                post = status_post(item)
            except Malformed as problem:
                skipped.append(str(problem))
                continue
            if post.external_id in seen:
                continue
            seen.add(post.external_id)
            posts.append(post)
        return posts

    # ------------------------------------------------------------------ full-text search available?

    def _search_available(self, cursor: dict) -> bool:
        check = cursor.get("search_check") if isinstance(cursor.get("search_check"), dict) else {}
        try:
            checked_at = datetime.fromisoformat(check.get("checked_at", ""))
        except (TypeError, ValueError):
            checked_at = None
        if checked_at is not None and isinstance(check.get("available"), bool) and self.now() - checked_at < SEARCH_CHECK_EVERY:
            self._search_check = {"available": check["available"], "checked_at": check["checked_at"]}
            return check["available"]
        available = self.probe_search()
        self._search_check = {"available": available, "checked_at": self.now().isoformat()}
        return available

    def probe_search(self) -> bool:
        """Whether the instance has full-text search (see the module's docstring)."""
        try:
            body = self.http.get_json(
                "/api/v2/search",
                params={"q": "from:me", "type": "statuses", "limit": "1", "resolve": "false"},
                what="Mastodon search check",
            )
            if isinstance(body, dict) and isinstance(body.get("statuses"), list) and body["statuses"]:
                return True
            account = self.http.get_json("/api/v1/accounts/verify_credentials", what="Mastodon account check")
        except (BadCredentials, RateLimited):
            raise
        except HarvestError:
            return True  # inconclusive: the search itself will show what is wrong
        count = account.get("statuses_count") if isinstance(account, dict) else None
        return not (isinstance(count, int) and count > 0)

    # ------------------------------------------------------------------ connection check

    def check_connection(self) -> str:
        self._need_token()
        account = self.http.get_json("/api/v1/accounts/verify_credentials", what="Mastodon sign-in check")
        if not isinstance(account, dict) or not isinstance(account.get("acct"), str):
            raise MalformedPage("Mastodon answered the sign-in check with something that is not an account")
        instance = urlsplit(self.base_url).netloc
        search = "available" if self.probe_search() else "not available (hashtag timelines only)"
        return f"Signed in to {instance} as @{account['acct']}. Full-text search: {search}."

    def _need_token(self) -> None:
        if not self.credentials.get("access_token"):
            raise BadCredentials("The Mastodon credential has no access_token: add one on the credentials page.")
