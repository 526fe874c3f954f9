"""X: recent search, the organisation's mentions and X lists, through tweepy.

Credentials: `bearer_token` (an app-only token); `user_id`, the organisation's own
account id, for the `mentions` channel. Channels: `mentions`, `list:<id>`.

tweepy hard-codes X's host, so a transport adapter mounted on the client's session
sends every request to `base_url` instead (a local fake in tests, or a proxy); the
same adapter caps the body size and counts requests. tweepy never sleeps here
(`wait_on_rate_limit=False`): a 429 becomes `RateLimited` at X's epoch
`x-rate-limit-reset`, and the scheduler reschedules the whole credential.

Cursors (X returns newest first):
- Search and mentions: `{"since_id": S}` between runs. A run asks for posts newer than
  S and pages back through them with X's token. `meta.newest_id` describes only its
  own page, so the first page's newest id is kept as `pending_newest_id` while paging
  (`{"since_id": S, "next_token": t, "pending_newest_id": n}`) and becomes `since_id`
  only once the last page is read. A run stopped midway resumes from the token with
  the old `since_id`: nothing is skipped, and what was read twice is stored once.
- A list (`list:<id>`) has no `since_id`: pages are read until the first post no
  newer than `last_seen_id` (`{"last_seen_id": L}`, with `pagination_token` and
  `pending_last_seen_id` while paging, as above).
- If X refuses a stored token (they expire), the scan starts again from the stored
  `since_id`; if recent search no longer reaches back to `since_id` (it covers seven
  days), the scan starts from the newest posts, and the page says so.

Normalisation: handles and names from `includes.users`; links are
`entities.urls[].expanded_url`, and the t.co addresses in the text are replaced by
them; mentions from `entities.mentions`. `kind` is repost, quote or reply from
`referenced_tweets` (in that order of precedence); `in_reply_to_handle` is the user
of `in_reply_to_user_id`. X truncates a repost's text, so a repost's text is
`RT @author: ` and the original's full text when the original is included. X
escapes `&`, `<` and `>` in text; they are unescaped. `lang` is kept only when it is
a two-letter code (X uses `und`, `zxx` and `qme`-style codes for none).
"""

import html
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit, urlunsplit

import requests
import tweepy
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

from listening.posts import Post
from listening.sources.base import (
    BadCredentials,
    HarvestError,
    MalformedPage,
    Page,
    RateLimited,
    RateLimitState,
    Source,
)
from listening.sources.http import (
    BODY_TIMEOUTS,
    DEFAULT_RATE_LIMIT_WAIT,
    DEFAULT_TIMEOUT_SECONDS,
    MAX_BODY_BYTES,
    MAX_RETRIES,
    Transient,
    error_text,
    rate_limit_state,
    reset_from_epoch,
    with_retries,
)

# The hosts tweepy has used; requests to any of them go to `base_url`.
TWEEPY_HOSTS = ("https://api.twitter.com/", "https://api.x.com/")
DEFAULT_BASE_URL = "https://api.x.com"

EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id", "in_reply_to_user_id"]
TWEET_FIELDS = ["created_at", "lang", "entities", "referenced_tweets", "in_reply_to_user_id", "conversation_id"]
USER_FIELDS = ["username", "name", "verified"]
KIND_BY_REFERENCE = (("retweeted", "repost"), ("quoted", "quote"), ("replied_to", "reply"))
MAX_ID_LENGTH = 30


class Malformed(ValueError):
    """One item that cannot be read; the rest of the page is kept."""


class Refused(HarvestError):
    """X answered 400: a parameter it would not take (an expired page token, a query)."""

    def __init__(self, message: str, *, reasons: str):
        super().__init__(message)
        self.reasons = reasons


# --------------------------------------------------------------------------- transport


class RewritingAdapter(HTTPAdapter):
    """Sends tweepy's requests to `base_url`, with a timeout, a body cap and a count."""

    def __init__(self, base_url: str, *, timeout: float, max_body_bytes: int, body_seconds: float):
        super().__init__(max_retries=0)  # retries are ours: bounded, with backoff
        self.base = urlsplit(base_url)
        self.timeout = timeout
        self.max_body_bytes = max_body_bytes
        self.body_seconds = body_seconds
        self.requests = 0

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        split = urlsplit(request.url)
        request.url = urlunsplit((self.base.scheme, self.base.netloc, self.base.path.rstrip("/") + split.path, split.query, ""))
        # Proxies were chosen for X's own host; choose again for where the request now goes.
        proxies = get_environ_proxies(request.url)
        self.requests += 1
        response = super().send(request, stream=True, timeout=timeout or self.timeout, verify=verify, cert=cert, proxies=proxies)
        what = f"X {split.path}"
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            response.close()
            raise MalformedPage(f"{what}: the body is {int(declared):,} bytes, over the {self.max_body_bytes:,}-byte cap")
        deadline = time.monotonic() + self.body_seconds
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise MalformedPage(f"{what}: the body is over the {self.max_body_bytes:,}-byte cap")
                if time.monotonic() > deadline:
                    raise Transient(f"the body took over {self.body_seconds:g} s to arrive")
                chunks.append(chunk)
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as error:
            raise MalformedPage(f"{what}: the body was truncated or garbled ({error.__class__.__name__})") from None
        finally:
            response.close()
        response._content = b"".join(chunks)
        response._content_consumed = True
        return response


# --------------------------------------------------------------------------- normalising


def _string(value, what: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise Malformed(f"{what} is {type(value).__name__}, not text")
    return value


def _tweet_id(value, what: str = "id") -> str:
    if not isinstance(value, str) or not value.isdigit() or len(value) > MAX_ID_LENGTH:
        raise Malformed(f"{what} {str(value)[:40]!r} is not an X id")
    return value


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


def _entity_list(entities, name: str) -> list[dict]:
    if entities is None:
        return []
    if not isinstance(entities, dict):
        raise Malformed("entities is not an object")
    found = entities.get(name) or []
    if not isinstance(found, list) or not all(isinstance(item, dict) for item in found):
        raise Malformed(f"entities.{name} is not a list of objects")
    return found


def _text_and_links(tweet: dict) -> tuple[str, list[str]]:
    """The text with t.co addresses expanded and X's escaping undone, and the links."""
    text = html.unescape(_string(tweet.get("text"), "text"))
    links = []
    for entity in _entity_list(tweet.get("entities"), "urls"):
        expanded = _string(entity.get("expanded_url") or entity.get("url"), "entities.urls[].expanded_url")
        short = entity.get("url")
        if isinstance(short, str) and short and expanded != short:
            text = text.replace(short, expanded)
        if expanded:
            links.append(expanded)
    return text, links


def _mentions(tweet: dict) -> list[str]:
    return [_string(entity.get("username"), "entities.mentions[].username") for entity in _entity_list(tweet.get("entities"), "mentions")]


def _lang(value) -> str:
    code = value.lower() if isinstance(value, str) else ""
    return code if len(code) == 2 and code.isascii() and code.isalpha() else ""


def _repost(text: str, links: list[str], mentions: list[str], original, users) -> tuple[str, list[str], list[str]]:
    """A repost's text from the original's full text, when X included the original."""
    if not isinstance(original, dict):
        return text, links, mentions
    try:
        original_text, original_links = _text_and_links(original)
        original_mentions = _mentions(original)
    except Malformed:
        return text, links, mentions  # the repost's own (truncated) text is still good
    author = (users.get(original.get("author_id")) or {}).get("username")
    prefix = f"RT @{author}: " if isinstance(author, str) and author else "RT: "
    return (
        prefix + original_text,
        list(dict.fromkeys(links + original_links)),
        list(dict.fromkeys(mentions + original_mentions)),
    )


def tweet_post(tweet, users: Mapping[str, dict], tweets: Mapping[str, dict]) -> Post:
    """One X post as a `Post`; raises Malformed with the reason."""
    if not isinstance(tweet, dict):
        raise Malformed(f"an item that is {type(tweet).__name__}, not a post")
    tweet_id = _tweet_id(tweet.get("id"))
    try:
        text, links = _text_and_links(tweet)
        mentions = _mentions(tweet)
        created_at = _created_at(tweet.get("created_at"))
        author = users.get(tweet.get("author_id")) or {}
        handle = author.get("username") if isinstance(author.get("username"), str) else ""
        name = author.get("name") if isinstance(author.get("name"), str) else ""
        references = tweet.get("referenced_tweets") or []
        if not isinstance(references, list) or not all(isinstance(ref, dict) for ref in references):
            raise Malformed("referenced_tweets is not a list of objects")
        types = {ref.get("type"): ref.get("id") for ref in references}
        kind = next((kind for ref_type, kind in KIND_BY_REFERENCE if ref_type in types), "post")
        referenced = types.get("retweeted") if kind == "repost" else types.get("quoted") if kind == "quote" else ""
        reply_to = users.get(tweet.get("in_reply_to_user_id")) or {}
        in_reply_to = reply_to.get("username") if isinstance(reply_to.get("username"), str) else ""
        if kind == "repost":
            text, links, mentions = _repost(text, links, mentions, tweets.get(types["retweeted"]), users)
    except Malformed as problem:
        raise Malformed(f"post {tweet_id}: {problem}") from None
    url = f"https://x.com/{handle}/status/{tweet_id}" if handle else f"https://x.com/i/web/status/{tweet_id}"
    return Post(
        platform="x",
        external_id=tweet_id,
        text=text,
        url=url,
        author_handle=handle,
        author_name=name,
        created_at=created_at,
        lang=_lang(tweet.get("lang")),
        links=tuple(links),
        mentions=tuple(mention for mention in mentions if mention),
        in_reply_to_handle=in_reply_to,
        kind=kind,
        referenced_id=referenced if isinstance(referenced, str) and 0 < len(referenced) <= MAX_ID_LENGTH else "",
        author_verified=author.get("verified") is True,
        raw=tweet,
    )


def _by_id(items) -> dict[str, dict]:
    if not isinstance(items, list):
        return {}
    return {item["id"]: item for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)}


def page_posts(body: dict) -> tuple[list[Post], list[str]]:
    """The posts of one page of X's answer, and a reason for each item skipped."""
    data = body.get("data") or []
    if not isinstance(data, list):
        raise MalformedPage("X answered with `data` that is not a list of posts")
    includes = body.get("includes") if isinstance(body.get("includes"), dict) else {}
    users, tweets = _by_id(includes.get("users")), _by_id(includes.get("tweets"))
    posts, skipped = [], []
    for item in data:
        try:
            posts.append(tweet_post(item, users, tweets))
        except Malformed as problem:
            skipped.append(str(problem))
    return posts, skipped


def _newest(*ids) -> str | None:
    known = [value for value in ids if isinstance(value, str) and value.isdigit()]
    return max(known, key=int) if known else None


# --------------------------------------------------------------------------- the source


class XSource(Source):
    platform = "x"
    supports_search = True

    def __init__(
        self,
        *,
        credentials: Mapping[str, str] | None = None,
        base_url: str | None = None,
        page_size: int = 100,
        sleep: Callable[[float], None] = time.sleep,
        retries: int = MAX_RETRIES,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_body_bytes: int = MAX_BODY_BYTES,
        query_max_length: int | None = None,
        list_ids: Mapping[str, str] | None = None,
    ):
        super().__init__(credentials=credentials, base_url=base_url or DEFAULT_BASE_URL)
        self.page_size = page_size
        self.sleep = sleep
        self.retries = retries
        self.query_max_length = query_max_length
        self.list_ids = list_ids
        self.client = tweepy.Client(
            bearer_token=self.credentials.get("bearer_token", ""), return_type=requests.Response, wait_on_rate_limit=False
        )
        self.adapter = RewritingAdapter(
            self.base_url, timeout=timeout, max_body_bytes=max_body_bytes, body_seconds=timeout * BODY_TIMEOUTS
        )
        for host in TWEEPY_HOSTS:
            self.client.session.mount(host, self.adapter)
        self.last_rate_limit: RateLimitState | None = None

    @classmethod
    def channel_error(cls, channel: str) -> str:
        if channel == "mentions":
            return ""
        if channel.startswith("list:"):
            list_id = channel[len("list:") :]
            if list_id.isdigit() and len(list_id) <= MAX_ID_LENGTH:
                return ""
            return f"{list_id[:40]!r} is not an X list id: use the number at the end of the list's address, e.g. list:1234567890."
        return f"{channel[:40]!r} is not an X channel: use mentions (the organisation's account) or list:<X list id>."

    # ------------------------------------------------------------------ pages

    def pages(self, *, query=None, channel: str | None = None, cursor: dict, max_pages: int) -> Iterator[Page]:
        self._need("bearer_token", "an X bearer token")
        cursor = dict(cursor or {})
        if channel is not None:
            problem = self.channel_error(channel)
            if problem:
                raise HarvestError(problem)
            if channel == "mentions":
                user_id = self._need("user_id", "the organisation's X user id (user_id), which the mentions channel reads")
                fetch = lambda **params: self.client.get_users_mentions(user_id, **self._fields(), **params)  # noqa: E731
                yield from self._since_pages(fetch, cursor, max_pages, token_param="pagination_token", what="X mentions")
            else:
                list_id = channel[len("list:") :]
                yield from self._list_pages(list_id, cursor, max_pages)
            return
        if query is None:
            raise HarvestError("An X harvest needs a query or a channel.")
        native = query.to_native("x", **self._compile_options(query))  # QueryNotSupported says why
        fetch = lambda **params: self.client.search_recent_tweets(native, **self._fields(), **params)  # noqa: E731
        yield from self._since_pages(fetch, cursor, max_pages, token_param="next_token", what="X recent search")

    def _since_pages(self, fetch, cursor: dict, max_pages: int, *, token_param: str, what: str) -> Iterator[Page]:
        since_id = cursor.get("since_id")
        token = cursor.get("next_token")
        pending = cursor.get("pending_newest_id")
        recovered = False
        seen: set[str] = set()
        pages = 0
        while pages < max_pages:
            params: dict = {"max_results": self.page_size}
            if since_id:
                params["since_id"] = since_id
            if token:
                params[token_param] = token
            try:
                body = self._call(lambda: fetch(**params), what=what)
            except Refused as refused:
                note = self._restart_after(refused, token=token, since_id=since_id, recovered=recovered)
                if note is None:
                    raise
                recovered = True
                if token:
                    token, pending = None, None
                else:
                    since_id = None
                continue
            pages += 1
            meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
            posts, skipped = page_posts(body)
            posts = self._unseen(posts, seen)
            if not token:  # the first page of a scan: its newest post is the newest of the scan
                pending = _newest(meta.get("newest_id"), *(post.external_id for post in posts))
            next_token = meta.get("next_token") if isinstance(meta.get("next_token"), str) else None
            if next_token == token:
                next_token = None  # a token that does not move would loop for ever
            if next_token:
                new_cursor = {"since_id": since_id, "next_token": next_token, "pending_newest_id": pending}
                new_cursor = {key: value for key, value in new_cursor.items() if value}
            else:
                new_cursor = {"since_id": _newest(pending, since_id)} if _newest(pending, since_id) else {}
            notes = [note] if recovered and pages == 1 else []
            yield self._page(posts, skipped, new_cursor, has_more=bool(next_token), notes=notes)
            if not next_token:
                return
            token = next_token

    def _list_pages(self, list_id: str, cursor: dict, max_pages: int) -> Iterator[Page]:
        last_seen = cursor.get("last_seen_id")
        token = cursor.get("pagination_token")
        pending = cursor.get("pending_last_seen_id")
        what = f"X list {list_id}"
        recovered = False
        seen: set[str] = set()
        pages = 0
        while pages < max_pages:
            params: dict = {"max_results": self.page_size}
            if token:
                params["pagination_token"] = token
            try:
                body = self._call(lambda: self.client.get_list_tweets(list_id, **self._fields(), **params), what=what)
            except Refused:
                if not token or recovered:
                    raise
                token, pending, recovered = None, None, True  # an expired token: read again from the newest
                continue
            pages += 1
            posts, skipped = page_posts(body)
            posts = self._unseen(posts, seen)
            if not token:
                pending = _newest(*(post.external_id for post in posts)) or pending
            # Newest first: the first post no newer than the last one seen ends the scan.
            fresh = [post for post in posts if not last_seen or int(post.external_id) > int(last_seen)]
            reached_known = len(fresh) < len(posts)
            meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
            next_token = meta.get("next_token") if isinstance(meta.get("next_token"), str) else None
            if next_token == token:
                next_token = None
            if next_token and not reached_known:
                new_cursor = {"last_seen_id": last_seen, "pagination_token": next_token, "pending_last_seen_id": pending}
                new_cursor = {key: value for key, value in new_cursor.items() if value}
            else:
                newest = _newest(pending, last_seen)
                new_cursor, next_token = ({"last_seen_id": newest} if newest else {}), None
            yield self._page(fresh, skipped, new_cursor, has_more=bool(next_token))
            if not next_token:
                return
            token = next_token

    # ------------------------------------------------------------------ connection check

    def check_connection(self) -> str:
        self._need("bearer_token", "an X bearer token")
        user_id = self.credentials.get("user_id")
        if user_id:
            body = self._call(lambda: self.client.get_user(id=user_id, user_fields=USER_FIELDS), what="X user lookup")
            user = body.get("data") if isinstance(body.get("data"), dict) else None
            if user is None:
                raise HarvestError(f"X answered, but has no account with the id {user_id}: {error_text(str(body.get('errors', '')))}")
            return f"Connected to X. The organisation's account is @{user.get('username', '?')} ({user.get('name', '')})."
        # A search unlikely to match much: X charges for every post read.
        body = self._call(
            lambda: self.client.search_recent_tweets('"earshot connection check"', max_results=10), what="X recent search"
        )
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        return f"Connected to X: recent search answered ({meta.get('result_count', 0)} posts). Add user_id to read the organisation's mentions."

    # ------------------------------------------------------------------ plumbing

    def _need(self, key: str, what: str) -> str:
        value = self.credentials.get(key, "")
        if not value:
            raise BadCredentials(f"The X credential has no {key}: add {what} on the credentials page.")
        return value

    @staticmethod
    def _fields() -> dict:
        return {"expansions": EXPANSIONS, "tweet_fields": TWEET_FIELDS, "user_fields": USER_FIELDS}

    def _compile_options(self, query) -> dict:
        options: dict = {}
        max_length = self.query_max_length
        if max_length is None:
            try:
                from django.conf import settings

                max_length = settings.EARSHOT_X_QUERY_MAX_LENGTH
            except Exception:  # Django not configured: X's standard limit
                max_length = 512
        options["x_max_length"] = max_length
        list_ids = self.list_ids
        if list_ids is None and query.watch_lists():
            try:
                from listening.selectors import x_list_ids

                list_ids = x_list_ids()
            except Exception:  # no database here: list: is left out, which only widens the search
                list_ids = None
        if list_ids:
            options["x_list_ids"] = list_ids
        return options

    def _call(self, request: Callable[[], requests.Response], *, what: str) -> dict:
        """One request with bounded retries; X's faults become ours. Returns the JSON body."""

        def once() -> requests.Response:
            try:
                return request()
            except tweepy.TooManyRequests as error:
                state = self._remember(error.response)
                raise RateLimited(f"X rate limit: {self._message(error)}", retry_at=self._retry_at(state), rate_limit=state) from None
            except (tweepy.Unauthorized, tweepy.Forbidden) as error:
                self._remember(error.response)
                status = error.response.status_code
                raise BadCredentials(f"authentication failed ({status}): {self._message(error)}") from None
            except tweepy.TwitterServerError as error:
                self._remember(error.response)
                raise Transient(f"HTTP {error.response.status_code}") from None
            except tweepy.BadRequest as error:
                self._remember(error.response)
                reasons = " ".join(str(message) for message in error.api_messages)
                raise Refused(f"{what}: X refused the request: {self._message(error)}", reasons=reasons) from None
            except tweepy.HTTPException as error:
                self._remember(error.response)
                raise HarvestError(f"{what}: HTTP {error.response.status_code}: {self._message(error)}") from None
            except requests.exceptions.Timeout as error:
                raise Transient(f"timed out ({error.__class__.__name__})") from None
            except requests.exceptions.ConnectionError as error:
                raise Transient(f"connection failed ({error.__class__.__name__})") from None

        response = with_retries(once, what=what, retries=self.retries, sleep=self.sleep)
        self._remember(response)
        try:
            body = response.json()
        except (ValueError, RecursionError):
            content = response.content.lstrip()[:1]
            kind = "an HTML page" if "html" in response.headers.get("content-type", "") or content == b"<" else "invalid JSON"
            raise MalformedPage(f"{what}: X answered with {kind}, not a page of posts") from None
        if not isinstance(body, dict):
            raise MalformedPage(f"{what}: X answered with JSON that is not a page of posts")
        if "data" not in body and "meta" not in body and body.get("errors"):
            raise HarvestError(f"{what}: {error_text(response.content)}")
        return body

    def _remember(self, response) -> RateLimitState | None:
        state = rate_limit_state(response.headers, prefix="x-rate-limit-", reset_parser=reset_from_epoch) if response is not None else None
        if state is not None:
            self.last_rate_limit = state
        return state

    @staticmethod
    def _retry_at(state: RateLimitState | None) -> datetime:
        now = datetime.now(timezone.utc)
        if state and state.reset_at and state.reset_at > now:
            return min(state.reset_at, now + timedelta(days=1))
        return now + DEFAULT_RATE_LIMIT_WAIT

    @staticmethod
    def _message(error: tweepy.HTTPException) -> str:
        messages = [message for message in error.api_messages if isinstance(message, str) and message]
        if messages:
            return "; ".join(messages)[:300]
        response = getattr(error, "response", None)
        return error_text(response.content) if response is not None and response.content else str(error)[:300]

    @staticmethod
    def _restart_after(refused: Refused, *, token, since_id, recovered: bool) -> str | None:
        """A note when a refused request can be recovered by starting the scan again."""
        if recovered:
            return None
        message = refused.reasons
        if token and ("next_token" in message or "pagination_token" in message):
            return "X no longer accepted the saved page token: the scan started again from the last post read."
        if since_id and "since_id" in message:
            return "X's recent search no longer reaches back to the last post read: the scan started again from the newest posts."
        return None

    @staticmethod
    def _unseen(posts: list[Post], seen: set[str]) -> list[Post]:
        """Posts not yet yielded in this run (X's pages can overlap)."""
        fresh = []
        for post in posts:
            if post.external_id not in seen:
                seen.add(post.external_id)
                fresh.append(post)
        return fresh

    def _page(self, posts, skipped, cursor, *, has_more: bool, notes=None) -> Page:
        requests_made, self.adapter.requests = self.adapter.requests, 0
        return Page(
            posts=posts,
            cursor=cursor,
            skipped=skipped,
            has_more=has_more,
            requests=requests_made,
            rate_limit=self.last_rate_limit,
            notes=list(notes or []),
        )
