"""Bluesky over XRPC: `app.bsky.feed.searchPosts` for search harvests and
`app.bsky.notification.listNotifications` for the `notifications` channel.

Signing in. The credential is a handle (or email/DID) and an app password. The first
call anywhere signs in with `com.atproto.server.createSession`; the session (access
and refresh JWTs, DID, handle — never the app password) is kept in Django's cache
(Redis) under the identifier and base URL, so every worker shares it. An access token
that has expired (400/401 "ExpiredToken") is renewed once with
`com.atproto.server.refreshSession`; a refresh token that is spent or revoked leads to
one new sign-in. A sign-in refused raises `BadCredentials`. All calls go to the base
URL (the account's PDS, https://bsky.social by default), which serves the AppView
methods on the account's behalf.

Paging politely. Bluesky's maintainers describe `searchPosts` as meant for searches
people type, so a run reads at most `MAX_PAGES_PER_RUN` pages of up to `PAGE_LIMIT`
posts, newest first. Both readers page in *sweeps*: a sweep starts at the newest
post and pages back to the `floor` (the newest post time a finished sweep saw, minus
`OVERLAP` for posts indexed late). A sweep that a run leaves unfinished goes on from
its paging cursor in the next run, so there are no gaps; the floor moves only when a
sweep ends. A new search or channel has no floor: its first sweep reads up to the
page cap of the newest posts and ends there rather than reaching further back.

Cursor (plain JSON): `floor` (ISO time), `next` and `sweep_newest` while a sweep is
unfinished, `seen` (recent post URIs with their times, at most `SEEN_LIMIT`, to drop
the posts the overlap brings back) and `params` (a fingerprint of the search, so a
changed search starts a fresh sweep instead of following a stale paging cursor).

OR. Bluesky's search has no OR, so a query it can't take whole whose top level is an
OR is searched one part at a time (`splitting.native_parts`); a part it can't express
either is named in every page's notes and left out. Each part sweeps as above, its
state under its own native search string: `{"parts": {search: state}, "rotate": n}`
(parts the query no longer names are dropped). The parts take turns, one page each,
within the same `MAX_PAGES_PER_RUN`, the first turn going one part further on each run
so that none starves; a new part's first sweep ends with its last turn of the run. A
post another part already yielded (this run, or within the overlap) is not yielded
again. Every post is matched against the whole query afterwards, so searching by
parts only widens what is fetched.

Post times. Search results are ordered and filtered (`since`) by Bluesky's "sortAt",
the earlier of the record's `createdAt` and the service's `indexedAt`, so that is the
time the floor follows; a post dated in the future cannot push it ahead. The
notifications channel follows `indexedAt`. Notifications are read, never marked seen,
so people using the account still see them.
"""

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import httpx
from django.core.cache import cache

from listening.posts import Post
from listening.query import Query, QueryNotSupported
from listening.sources.base import BadCredentials, HarvestError, MalformedPage, Page, Source
from listening.sources.http import PlatformHttp, parse_json, reset_from_epoch
from listening.sources.splitting import missing_note, native_parts

PAGE_LIMIT = 100
MAX_PAGES_PER_RUN = 5
OVERLAP = timedelta(minutes=5)
SEEN_LIMIT = 500
NOTIFICATION_REASONS = ("mention", "reply", "quote")
# app.bsky.actor.getProfiles takes at most 25 actors.
PROFILES_PER_CALL = 25
SESSION_CACHE_SECONDS = 60 * 24 * 3600
SESSION_CACHE_PREFIX = "earshot:bluesky:session:"
SEARCH = "app.bsky.feed.searchPosts"
NOTIFICATIONS = "app.bsky.notification.listNotifications"

_HANDLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}")
_RKEY = re.compile(r"[A-Za-z0-9._:~-]{1,512}")
_DID = re.compile(r"did:[a-z]+:[A-Za-z0-9._:%-]{1,2048}")
_LANG = re.compile(r"[A-Za-z]{2,3}")
_SESSION_REFUSALS = {"AuthenticationRequired", "InvalidToken", "AccountTakedown", "AccountDeactivated", "AuthFactorTokenRequired"}


class TokenExpired(HarvestError):
    """The access (or refresh) JWT has expired; renewed inside the source, never shown."""


class SessionRejected(BadCredentials):
    """The platform refused the session or the sign-in; `detail` is its own message."""

    def __init__(self, message: str, *, detail: str = ""):
        super().__init__(message)
        self.detail = detail or message


class BadItem(ValueError):
    """One malformed item: skipped and recorded on the run."""


def _xrpc_error(response: httpx.Response) -> tuple[str, str]:
    """XRPC errors are `{"error": "Name", "message": "…"}`."""
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return "", ""
    if not isinstance(data, dict):
        return "", ""
    code, message = data.get("error"), data.get("message")
    return (code if isinstance(code, str) else ""), (message[:300] if isinstance(message, str) else "")


def classify_error(response: httpx.Response) -> None:
    status = response.status_code
    if status not in (400, 401, 403):
        return
    code, message = _xrpc_error(response)
    if code == "ExpiredToken":
        raise TokenExpired(message or "the token has expired")
    if status in (401, 403) or code in _SESSION_REFUSALS:
        detail = message or code or response.reason_phrase
        raise SessionRejected(f"Bluesky refused the session ({status} {code or 'error'}): {detail}", detail=detail)


def _when(value) -> datetime:
    """An ISO 8601 time from a record or view, as aware UTC; BadItem when unusable."""
    if not isinstance(value, str) or not 10 <= len(value) <= 64:
        raise BadItem(f"an unusable time {str(value)[:40]!r}")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadItem(f"an unusable time {value[:40]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _parse_cursor_time(value) -> datetime | None:
    try:
        return _when(value)
    except BadItem:
        return None


def _valid_handle(handle) -> bool:
    return (
        isinstance(handle, str)
        and handle != "handle.invalid"
        and "." in handle
        and ".." not in handle
        and _HANDLE.fullmatch(handle) is not None
    )


def _http_link(uri) -> str:
    if isinstance(uri, str) and uri[:8].lower().startswith(("http://", "https://")) and len(uri) <= 2000:
        return uri
    return ""


def _language(langs) -> str:
    if isinstance(langs, list) and langs and isinstance(langs[0], str):
        primary = langs[0].split("-")[0]
        if _LANG.fullmatch(primary):
            return primary.lower()
    return ""


def _quotable(uri) -> bool:
    """An at:// post address short enough to be a mention's external id."""
    return isinstance(uri, str) and uri.startswith("at://") and len(uri) <= 200


def _verified(author: Mapping) -> bool:
    """Bluesky's blue check: a verification the app shows as valid."""
    verification = author.get("verification")
    return isinstance(verification, Mapping) and verification.get("verifiedStatus") == "valid"


def _did_of_at_uri(uri) -> str:
    if isinstance(uri, str) and uri.startswith("at://"):
        authority = uri[5:].split("/", 1)[0]
        if _DID.fullmatch(authority):
            return authority
    return ""


def bluesky_post(item: Mapping, *, handles: dict[str, str]) -> tuple[Post, str]:
    """A post view (search) or notification as a `Post`, and the parent DID of a reply.

    Raises BadItem for a malformed item. Learns DID → handle pairs into `handles`.
    """
    if not isinstance(item, Mapping):
        raise BadItem(f"an item that is not an object ({type(item).__name__})")
    uri = item.get("uri")
    if not isinstance(uri, str) or not uri.startswith("at://") or len(uri) > 200:
        raise BadItem(f"an item with an unusable uri {str(uri)[:60]!r}")
    parts = uri[5:].split("/")
    if len(parts) != 3 or not _RKEY.fullmatch(parts[2]):
        raise BadItem(f"{uri}: not a post uri")
    author = item.get("author")
    if not isinstance(author, Mapping) or not isinstance(author.get("did"), str) or not _DID.fullmatch(author["did"]):
        raise BadItem(f"{uri}: no author DID")
    did = author["did"]
    handle = author.get("handle") if _valid_handle(author.get("handle")) else ""
    if handle:
        handles[did] = handle
    display_name = author.get("displayName")
    record = item.get("record")
    if not isinstance(record, Mapping):
        raise BadItem(f"{uri}: no post record")
    text = record.get("text", "")
    if not isinstance(text, str):
        raise BadItem(f"{uri}: the text is not a string")
    try:
        created_at = _when(record.get("createdAt"))
    except BadItem as bad:
        raise BadItem(f"{uri}: createdAt is {bad}") from None

    links, mentions = _facets(uri, text, record.get("facets"), handles)
    embed = record.get("embed")
    quoting = False
    quoted_uri = None
    if isinstance(embed, Mapping):
        kind = embed.get("$type")
        external = embed.get("external")
        if kind == "app.bsky.embed.recordWithMedia":
            quoting = True
            outer = embed.get("record")  # {"record": {"uri": …}}: the quoted post beside the media
            inner = outer.get("record") if isinstance(outer, Mapping) else None
            quoted_uri = inner.get("uri") if isinstance(inner, Mapping) else None
            media = embed.get("media")
            external = media.get("external") if isinstance(media, Mapping) else None
        elif kind == "app.bsky.embed.record":
            quoting = True
            quoted = embed.get("record")
            quoted_uri = quoted.get("uri") if isinstance(quoted, Mapping) else None
        if isinstance(external, Mapping) and _http_link(external.get("uri")):
            links.append(external["uri"])

    parent_did = ""
    reply = record.get("reply")
    if reply is not None:
        if not isinstance(reply, Mapping):
            raise BadItem(f"{uri}: reply is not an object")
        parent = reply.get("parent")
        parent_did = _did_of_at_uri(parent.get("uri")) if isinstance(parent, Mapping) else ""
    kind = "reply" if reply is not None else "quote" if quoting else "post"
    profile = handle or did
    post = Post(
        platform="bluesky",
        external_id=uri,
        text=text,
        url=f"https://bsky.app/profile/{quote(profile, safe=':.')}/post/{quote(parts[2], safe='')}",
        author_handle=handle or did,
        author_name=display_name if isinstance(display_name, str) else "",
        created_at=created_at,
        lang=_language(record.get("langs")),
        links=tuple(dict.fromkeys(links)),
        mentions=tuple(dict.fromkeys(mentions)),
        kind=kind,
        referenced_id=quoted_uri if kind == "quote" and _quotable(quoted_uri) else "",
        author_verified=_verified(author),
        raw=item,
    )
    return post, parent_did


def _facets(uri: str, text: str, facets, handles: dict[str, str]) -> tuple[list[str], list[str]]:
    """Links and mentions from rich-text facets, whose offsets count UTF-8 bytes."""
    links: list[str] = []
    mentions: list[str] = []
    if facets is None:
        return links, mentions
    if not isinstance(facets, list):
        raise BadItem(f"{uri}: facets is not a list")
    encoded = text.encode("utf-8")
    for facet in facets:
        if not isinstance(facet, Mapping) or not isinstance(facet.get("index"), Mapping):
            raise BadItem(f"{uri}: a facet without an index")
        start, end = facet["index"].get("byteStart"), facet["index"].get("byteEnd")
        if (
            type(start) is not int
            or type(end) is not int
            or not 0 <= start < end <= len(encoded)
        ):
            raise BadItem(f"{uri}: facet byte offsets {start!r}–{end!r} fall outside the {len(encoded)}-byte text")
        try:
            piece = encoded[start:end].decode("utf-8")
        except UnicodeDecodeError:
            raise BadItem(f"{uri}: facet byte offsets {start}–{end} split a character") from None
        features = facet.get("features")
        if not isinstance(features, list):
            raise BadItem(f"{uri}: a facet without features")
        for feature in features:
            if not isinstance(feature, Mapping):
                continue
            kind = feature.get("$type")
            if kind == "app.bsky.richtext.facet#link":
                link = _http_link(feature.get("uri"))
                if link:
                    links.append(link)
            elif kind == "app.bsky.richtext.facet#mention":
                # The facet names a DID; the handle is whatever the text shows after "@".
                handle = piece[1:] if piece.startswith("@") else ""
                if _valid_handle(handle):
                    mentions.append(handle)
                    mentioned = feature.get("did")
                    if isinstance(mentioned, str) and _DID.fullmatch(mentioned):
                        handles.setdefault(mentioned, handle)
    return links, mentions


def _indexed_at(item) -> datetime:
    if not isinstance(item, Mapping):
        raise BadItem(f"an item that is not an object ({type(item).__name__})")
    try:
        return _when(item.get("indexedAt"))
    except BadItem as bad:
        raise BadItem(f"{str(item.get('uri'))[:120]}: indexedAt is {bad}") from None


def _sort_at(post: Post, item: Mapping) -> datetime:
    """Bluesky's sortAt: the earlier of createdAt and indexedAt (never in the future)."""
    indexed = item.get("indexedAt")
    moments = [post.created_at, datetime.now(timezone.utc)]
    if indexed is not None:
        try:
            moments.append(_when(indexed))
        except BadItem as bad:
            raise BadItem(f"{post.external_id}: indexedAt is {bad}") from None
    return min(moments)


class Sweep:
    """The paging state kept in the cursor (see the module docstring)."""

    def __init__(self, cursor: Mapping, *, params_key: str):
        same_search = cursor.get("params", params_key) == params_key
        self.floor = _parse_cursor_time(cursor.get("floor"))
        self.next = cursor.get("next") if same_search and isinstance(cursor.get("next"), str) else None
        self.newest = _parse_cursor_time(cursor.get("sweep_newest")) if self.next else None
        self.params_key = params_key
        self.seen: dict[str, str] = {}
        for entry in cursor.get("seen") or ():
            if isinstance(entry, list) and len(entry) == 2 and all(isinstance(x, str) for x in entry):
                self.seen[entry[0]] = entry[1]

    @property
    def since(self) -> datetime | None:
        return self.floor - OVERLAP if self.floor else None

    def remember(self, uri: str, moment: datetime) -> None:
        self.seen[uri] = _iso(moment)
        if self.newest is None or moment > self.newest:
            self.newest = moment

    def advance(self, next_cursor: str | None) -> None:
        self.next = next_cursor
        if next_cursor is None:
            if self.newest and (self.floor is None or self.newest > self.floor):
                self.floor = self.newest
            self.newest = None
        oldest = _iso(self.since) if self.since else ""
        kept = sorted(((when, uri) for uri, when in self.seen.items() if when >= oldest), reverse=True)[:SEEN_LIMIT]
        self.seen = {uri: when for when, uri in kept}

    def cursor(self) -> dict:
        cursor: dict = {"seen": [[uri, when] for uri, when in self.seen.items()], "params": self.params_key}
        if self.floor:
            cursor["floor"] = _iso(self.floor)
        if self.next:
            cursor["next"] = self.next
            if self.newest:
                cursor["sweep_newest"] = _iso(self.newest)
        return cursor


def _search(part: Query) -> tuple[str, dict]:
    """A query's native search string (the key of its paging state) and searchPosts parameters."""
    return part.to_native("bluesky"), {**part.to_bluesky_params(), "sort": "latest", "limit": PAGE_LIMIT}


def _fingerprint(params: dict) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]


def _budget(max_pages: int) -> int:
    return max(0, min(max_pages, MAX_PAGES_PER_RUN))


class BlueskySource(Source):
    platform = "bluesky"

    def __init__(self, *, credentials=None, base_url=None, sleep=time.sleep, transport: httpx.BaseTransport | None = None):
        super().__init__(credentials=credentials, base_url=base_url)
        self.http = PlatformHttp(
            platform="bluesky",
            base_url=self.base_url,
            rate_limit_prefix="ratelimit-",
            reset_parser=reset_from_epoch,
            sleep=sleep,
            transport=transport,
            classify_error=classify_error,
        )
        self.identifier = str(self.credentials.get("identifier", "")).strip().lstrip("@")
        self.session: dict | None = None
        self.session_from_cache = False
        self.handles: dict[str, str] = {}

    @classmethod
    def channel_error(cls, channel: str) -> str:
        if channel == "notifications":
            return ""
        return 'Bluesky has one channel: "notifications" (mentions of, replies to and quotes of the account).'

    # ------------------------------------------------------------------ session

    @property
    def _cache_key(self) -> str:
        who = f"{self.base_url}\n{self.identifier.lower()}"
        return SESSION_CACHE_PREFIX + hashlib.sha256(who.encode()).hexdigest()

    def _session(self) -> dict:
        if self.session is None:
            cached = cache.get(self._cache_key)
            if self._usable(cached):
                self.session, self.session_from_cache = cached, True
                if _valid_handle(cached.get("handle")):
                    self.handles[cached["did"]] = cached["handle"]
            else:
                self._sign_in()
        return self.session

    @staticmethod
    def _usable(session) -> bool:
        return isinstance(session, dict) and all(isinstance(session.get(k), str) and session[k] for k in ("accessJwt", "refreshJwt", "did"))

    def _keep(self, data, what: str) -> dict:
        if not self._usable(data):
            raise MalformedPage(f"Bluesky {what}: the answer holds no session")
        session = {key: data.get(key) for key in ("accessJwt", "refreshJwt", "did", "handle") if isinstance(data.get(key), str)}
        cache.set(self._cache_key, session, SESSION_CACHE_SECONDS)
        self.session = session
        if _valid_handle(session.get("handle")):
            self.handles[session["did"]] = session["handle"]
        return session

    def _sign_in(self) -> dict:
        password = str(self.credentials.get("app_password", ""))
        if not self.identifier or not password:
            raise BadCredentials("Bluesky needs an identifier (the account's handle) and an app password.")
        try:
            response = self.http.request(
                "POST",
                "/xrpc/com.atproto.server.createSession",
                what="Bluesky sign-in",
                json={"identifier": self.identifier, "password": password},
            )
        except SessionRejected as refused:
            raise BadCredentials(f"Bluesky refused the sign-in for {self.identifier}: {refused.detail}") from None
        except TokenExpired as refused:
            raise BadCredentials(f"Bluesky refused the sign-in for {self.identifier}: {refused}") from None
        self.session_from_cache = False
        return self._keep(parse_json(response, what="Bluesky sign-in"), "sign-in")

    def _refresh(self, stale: dict) -> dict:
        try:
            response = self.http.request(
                "POST",
                "/xrpc/com.atproto.server.refreshSession",
                what="Bluesky session refresh",
                headers={"Authorization": f"Bearer {stale['refreshJwt']}"},
            )
        except (TokenExpired, SessionRejected):
            # Spent or revoked: another worker may have refreshed first; else sign in again.
            cached = cache.get(self._cache_key)
            if self._usable(cached) and cached["accessJwt"] != stale["accessJwt"]:
                self.session = cached
                return cached
            cache.delete(self._cache_key)
            return self._sign_in()
        return self._keep(parse_json(response, what="Bluesky session refresh"), "session refresh")

    def _call(self, nsid: str, params) -> dict:
        """One signed-in GET, renewing the session at most once."""
        session = self._session()
        renewed = False
        while True:
            try:
                response = self.http.request(
                    "GET", f"/xrpc/{nsid}", what=f"Bluesky {nsid}", params=params,
                    headers={"Authorization": f"Bearer {session['accessJwt']}"},
                )
                break
            except TokenExpired:
                if renewed:
                    raise BadCredentials("Bluesky keeps saying the session has expired just after renewing it.") from None
                session, renewed = self._refresh(session), True
            except SessionRejected:
                if renewed or not self.session_from_cache:
                    raise
                # A cached session may have been revoked with its app password: sign in once.
                cache.delete(self._cache_key)
                session, renewed = self._sign_in(), True
        data = parse_json(response, what=f"Bluesky {nsid}")
        if not isinstance(data, dict):
            raise MalformedPage(f"Bluesky {nsid}: the answer is not an object")
        return data

    def check_connection(self) -> str:
        data = self._call("com.atproto.server.getSession", {})
        handle = data.get("handle") if isinstance(data.get("handle"), str) else self.identifier
        return f"Signed in to Bluesky as @{handle}."

    # ------------------------------------------------------------------ reading

    def pages(self, *, query=None, channel=None, cursor: dict, max_pages: int) -> Iterator[Page]:
        cursor = cursor if isinstance(cursor, Mapping) else {}
        if channel is not None:
            error = self.channel_error(channel)
            if error:
                raise HarvestError(error)
            params: dict = {"limit": PAGE_LIMIT, "reasons": list(NOTIFICATION_REASONS)}
            return self._sweep(NOTIFICATIONS, "notifications", params, cursor, max_pages, notifications=True)
        if query is None:
            raise HarvestError("A Bluesky harvest needs a search or a channel.")
        try:
            searches, missing = native_parts(query, "bluesky", compile=_search)
        except QueryNotSupported as unsupported:
            raise HarvestError(str(unsupported)) from None
        if len(searches) == 1 and not missing:
            return self._sweep(SEARCH, "posts", searches[0][1], cursor, max_pages, notifications=False)
        notes = [missing_note("Bluesky", missing)] if missing else []
        return self._parts(dict(searches), notes, cursor, max_pages)

    def _sweep(self, nsid: str, key: str, params: dict, cursor: Mapping, max_pages: int, *, notifications: bool) -> Iterator[Page]:
        """One search or channel, its sweep's state the whole cursor."""
        sweep = Sweep(cursor, params_key=_fingerprint(params))
        first_sweep = sweep.floor is None
        budget = _budget(max_pages)
        for number in range(budget):
            posts, skipped, done = self._read_page(
                nsid, key, params, sweep,
                notifications=notifications, last=first_sweep and number == budget - 1, known=sweep.seen.__contains__,
            )
            yield self._page(posts, skipped, cursor=sweep.cursor(), has_more=not done)
            if done:
                return

    def _parts(self, searches: dict[str, dict], notes: list[str], cursor: Mapping, max_pages: int) -> Iterator[Page]:
        """The parts of an OR, one searchPosts each, taking turns within the run's pages.

        Each part keeps its own sweep under its native search string; the turns start
        one part further on each run, so with more parts than pages none starves."""
        saved = cursor.get("parts") if isinstance(cursor.get("parts"), Mapping) else {}
        sweeps = {
            native: Sweep(saved[native] if isinstance(saved.get(native), Mapping) else {}, params_key=_fingerprint(params))
            for native, params in searches.items()
        }
        first_sweeps = {native for native, sweep in sweeps.items() if sweep.floor is None}
        natives = list(sweeps)
        start = cursor.get("rotate") if type(cursor.get("rotate")) is int else 0
        start %= len(natives)
        order = natives[start:] + natives[:start]
        yielded: set[str] = set()

        def known(uri: str) -> bool:
            return uri in yielded or any(uri in sweep.seen for sweep in sweeps.values())

        finished: set[str] = set()
        budget, used = _budget(max_pages), 0
        while used < budget and len(finished) < len(natives):
            for native in order:
                if native in finished or used >= budget:
                    continue
                # A new part's first sweep ends with its last turn of the run (see the docstring).
                waiting = sum(1 for other in natives if other != native and other not in finished)
                last = native in first_sweeps and budget - used - 1 <= waiting
                posts, skipped, done = self._read_page(
                    SEARCH, "posts", searches[native], sweeps[native], notifications=False, last=last, known=known
                )
                used += 1
                yielded.update(post.external_id for post in posts)
                if done:
                    finished.add(native)
                new_cursor = {"parts": {n: sweep.cursor() for n, sweep in sweeps.items()}, "rotate": (start + 1) % len(natives)}
                yield self._page(posts, skipped, cursor=new_cursor, has_more=len(finished) < len(natives), notes=notes)

    def _page(self, posts: list[Post], skipped: list[str], *, cursor: dict, has_more: bool, notes=()) -> Page:
        return Page(
            posts=posts,
            cursor=cursor,
            skipped=skipped,
            has_more=has_more,
            requests=self.http.take_requests(),
            rate_limit=self.http.last_rate_limit,
            notes=list(notes),
        )

    def _read_page(
        self, nsid: str, key: str, params: dict, sweep: Sweep, *, notifications: bool, last: bool, known: Callable[[str], bool]
    ) -> tuple[list[Post], list[str], bool]:
        """One page of a sweep: its new posts, the items skipped, and whether the sweep
        ended. `last` ends a first sweep here; `known` says a post was yielded before."""
        request = dict(params)
        if sweep.next:
            request["cursor"] = sweep.next
        if sweep.since and not notifications:
            request["since"] = _iso(sweep.since)
        data = self._call(nsid, request)
        items = data.get(key)
        if not isinstance(items, list):
            raise MalformedPage(f"Bluesky {nsid}: the answer has no {key} list")
        posts, parents, skipped, reached_floor = [], [], [], False
        for item in items:
            try:
                if notifications:
                    moment = _indexed_at(item)
                    read_before = sweep.floor and moment <= sweep.floor and item.get("uri") in sweep.seen
                    if read_before or (sweep.since and moment < sweep.since):
                        reached_floor = True  # newest first: everything after this is already read
                        break
                    if item.get("reason") not in NOTIFICATION_REASONS:
                        continue  # likes, follows, reposts: not engagement with what was said
                post, parent_did = bluesky_post(item, handles=self.handles)
                if not notifications:
                    moment = _sort_at(post, item)
            except BadItem as bad:
                skipped.append(f"Bluesky: skipped {bad}")
                continue
            if known(post.external_id):
                if post.external_id not in sweep.seen:
                    # Another OR part found it: this part's floor still moves past it.
                    sweep.remember(post.external_id, moment)
                continue
            sweep.remember(post.external_id, moment)
            posts.append(post)
            parents.append(parent_did)
        posts = self._with_reply_handles(posts, parents)
        next_cursor = data.get("cursor") if isinstance(data.get("cursor"), str) and data.get("cursor") else None
        done = reached_floor or not items or next_cursor is None or last
        sweep.advance(None if done else next_cursor)
        return posts, skipped, done

    def _with_reply_handles(self, posts: list[Post], parents: list[str]) -> list[Post]:
        """Fill `in_reply_to_handle` from the DIDs seen so far, then one best-effort
        getProfiles for the rest: a reply whose parent cannot be named keeps ""."""
        unknown = list(dict.fromkeys(did for did in parents if did and did not in self.handles))[:PROFILES_PER_CALL]
        if unknown:
            self._learn_profiles(unknown)
        return [
            replace(post, in_reply_to_handle=self.handles.get(did, "")) if did else post
            for post, did in zip(posts, parents)
        ]

    def _learn_profiles(self, dids: list[str]) -> None:
        try:
            data = self._call("app.bsky.actor.getProfiles", {"actors": dids})
        except BadCredentials:
            raise
        except HarvestError:
            return  # naming the parent is a nicety; the posts are stored either way
        profiles = data.get("profiles")
        for profile in profiles if isinstance(profiles, list) else ():
            if isinstance(profile, Mapping) and isinstance(profile.get("did"), str) and _valid_handle(profile.get("handle")):
                self.handles[profile["did"]] = profile["handle"]

