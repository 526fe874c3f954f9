"""News feeds (RSS 0.9x, 1.0 and 2.0, and Atom), read whole as channels.

A channel string is the feed's http(s) URL. Feeds cannot be searched on their own
side (`supports_search` is False): every new entry is matched locally against every
saved search on news feeds.

One run is one conditional GET (ETag / Last-Modified from the cursor); "304 Not
Modified" is an empty page with the cursor unchanged. Redirects are followed up to
`MAX_REDIRECTS`: a permanent one (301/308) is recorded — the new address goes in the
cursor's `url`, where later runs read the feed, and a page note says so for the
health page — while a temporary one (302/303/307) is followed and forgotten.

Refused, failing the run with the cursor left where it was: a body over
`EARSHOT_FEED_MAX_BYTES`; a document that declares XML entities in its DOCTYPE
(entity expansion, "billion laughs", is refused before any parser sees it); a body
that is not a feed (an HTML page, JSON, anything without an RSS or Atom root); a
document cut short. 429, or 503 with Retry-After, is a rate limit. A feed answering
401/403 is an error on the run, not bad credentials: feeds have none to replace.

Entries: deduplicated on the entry id (RSS guid, RDF about, Atom id), falling back to
the link, remembering the last `SEEN_LIMIT` in the cursor. The external id is a
SHA-256 of the channel URL and that key, so it stays put if the feed moves. The title
goes in `title`, the summary (else the content) becomes plain text with its links
kept in `links`, `kind` is "article". An author written as one word (a username) is
also the handle; a full name is only the author's name. An entry with neither id nor
link, or with a date that cannot be read, is skipped and recorded. At most
`EARSHOT_FEED_MAX_ENTRIES` entries of one document are read.
"""

import hashlib
import html
import io
import re
import time
import xml.sax
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx
import nh3
from django.conf import settings
from feedparser.encodings import convert_to_utf8

from listening.posts import Post
from listening.sources.base import BadCredentials, HarvestError, MalformedPage, Page, Source
from listening.sources.http import PlatformHttp

MAX_REDIRECTS = 5
SEEN_LIMIT = 1000
MAX_TEXT_CHARS = 100_000
MAX_TITLE_CHARS = 1_000
ACCEPT = "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"

# The two keywords as a parser could meet them: ASCII-compatible, UTF-16 or UTF-32.
_CODECS = ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
_DOCTYPE_NEEDLES = tuple("<!doctype".encode(codec) for codec in _CODECS)
_ENTITY_NEEDLES = tuple("<!entity".encode(codec) for codec in _CODECS)


class BadEntry(ValueError):
    """One malformed entry: skipped and recorded on the run."""


def feed_url_error(url) -> str:
    if not isinstance(url, str) or not url:
        return "A news feed channel is the feed's address, starting http:// or https://."
    if len(url) > 2000:
        return "That feed address is over 2,000 characters."
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return "A feed address has no spaces in it."
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        return "That is not a feed address: it could not be read as a URL."
    if parts.scheme.lower() not in ("http", "https") or not hostname:
        return "A news feed channel is the feed's address, starting http:// or https://."
    if parts.username or parts.password:
        return "Put no user name or password in a feed address."
    return ""


# --------------------------------------------------------------------------- parsing


def _declares_entities(data: bytes) -> bool:
    """A DOCTYPE and an ENTITY declaration anywhere, in any encoding a parser might see.

    Deliberately broad: a real feed never declares entities, and looking for the two
    keywords cannot be fooled by comments or odd DOCTYPE layouts the way a partial
    DTD parser could.
    """
    lowered = data.lower()  # bytes.lower() folds ASCII letters only, in any of those encodings
    return any(needle in lowered for needle in _DOCTYPE_NEEDLES) and any(needle in lowered for needle in _ENTITY_NEEDLES)


def _not_a_feed(data: bytes, where: str) -> str:
    start = data.lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n")[:1024].lower()
    if not start:
        return f"{where} answered with an empty body, not a feed"
    if start[:1] in (b"{", b"["):
        return f"{where} answered with JSON, not a feed (RSS or Atom)"
    if start.startswith((b"<!doctype html", b"<html")) or (
        b"<html" in start and not any(root in start for root in (b"<rss", b"<feed", b"<rdf:rdf", b"<channel"))
    ):
        return f"{where} answered with an HTML page, not a feed (RSS or Atom)"
    return ""


def _cut_short(data: bytes) -> bool:
    """Whether the document stops before its root element closes."""
    root = re.search(rb"<([A-Za-z_][\w:.-]{0,100})", data)
    if root is None:
        return True
    tail = data.rstrip()[-512:]
    return re.search(rb"</" + re.escape(root.group(1)) + rb"\s*>(\s|<!--.*?-->)*$", tail, re.S) is None


def parse_feed(body: bytes, *, url: str, content_type: str = ""):
    """The feedparser result for `body`, or MalformedPage with the reason."""
    where = f"The feed at {url[:200]}"
    reason = _not_a_feed(body, where)
    if reason:
        raise MalformedPage(reason)
    # Decode exactly as feedparser will, so the entity check sees what the parser sees.
    data = convert_to_utf8({"content-type": content_type or "application/xml"}, body, {})
    if _declares_entities(body) or _declares_entities(data):
        raise MalformedPage(
            f"{where} declares XML entities in a DOCTYPE. Earshot refuses them: entity expansion "
            "(the 'billion laughs' attack) can grow a small document into gigabytes."
        )
    parsed = feedparser.parse(
        io.BytesIO(data),
        response_headers={"content-type": "application/xml; charset=utf-8", "content-location": url},
        sanitize_html=True,
        resolve_relative_uris=True,
    )
    if not parsed.get("version"):
        problem = f": {str(parsed.get('bozo_exception'))[:120]}" if parsed.get("bozo") else ""
        raise MalformedPage(f"{where} is not a feed (no RSS or Atom document){problem}")
    if parsed.get("bozo") and isinstance(parsed.get("bozo_exception"), xml.sax.SAXParseException) and _cut_short(data):
        raise MalformedPage(f"{where} is cut short: the document ends before it closes")
    return parsed


# --------------------------------------------------------------------------- entries

_KEPT_TAGS = {"a", "br", "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "td", "th", "table"}
_HREF = re.compile(r'<a href="([^"]*)"')
_BREAK = re.compile(r"</?(?:p|div|li|ul|ol|h[1-6]|blockquote|pre|tr|table)>|<br\s*/?>")
_CELL = re.compile(r"</?(?:td|th)>")
_TAG = re.compile(r"<[^<>]*>")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*")


def html_to_text(fragment: str) -> tuple[str, list[str]]:
    """Plain text and the http(s) links of an HTML fragment.

    nh3 parses the fragment as a browser would and rewrites it with only a few bare
    tags (and `href` on links), so the simple patterns after it only ever see
    well-formed tags; every step is linear in the input.
    """
    cleaned = nh3.clean(
        fragment,
        tags=_KEPT_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https"},
        link_rel=None,
        strip_comments=True,
    )
    links = [html.unescape(href) for href in _HREF.findall(cleaned)]
    text = _CELL.sub(" ", _BREAK.sub("\n", cleaned))
    text = html.unescape(_TAG.sub("", text))
    text = _SPACES.sub(" ", text)
    text = _BLANK_LINES.sub("\n\n", "\n".join(line.strip() for line in text.split("\n")))
    return text.strip(), [link for link in links if _http(link)]


def _http(url) -> str:
    if isinstance(url, str) and url[:8].lower().startswith(("http://", "https://")) and len(url) <= 2000:
        return url
    return ""


def _plain(value, detail) -> tuple[str, list[str]]:
    if not isinstance(value, str):
        return "", []
    kind = detail.get("type", "") if isinstance(detail, Mapping) else ""
    if kind == "text/plain":
        return value.strip(), []
    return html_to_text(value)


def _language(*candidates) -> str:
    for value in candidates:
        if isinstance(value, str) and value:
            primary = value.strip().split("-")[0].split("_")[0]
            if re.fullmatch(r"[A-Za-z]{2,3}", primary):
                return primary.lower()
    return ""


def entry_key(entry: Mapping) -> str:
    for value in (entry.get("id"), entry.get("link")):
        if isinstance(value, str) and value.strip():
            return value.strip()[:4000]
    raise BadEntry("an entry with neither an id nor a link")


def _published(entry: Mapping, label: str) -> datetime | None:
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        if raw:
            parsed = entry.get(f"{key}_parsed")
            if not parsed:
                raise BadEntry(f"{label}: its date {str(raw)[:60]!r} cannot be read")
            try:
                return datetime(*parsed[:6], tzinfo=timezone.utc)
            except (TypeError, ValueError):
                raise BadEntry(f"{label}: its date {str(raw)[:60]!r} cannot be read") from None
    return None


def entry_post(entry: Mapping, *, external_id: str, feed: Mapping) -> Post:
    key = entry_key(entry)
    label = f"entry {key[:120]!r}"
    created_at = _published(entry, label)
    link = _http(entry.get("link"))
    title, _ = _plain(entry.get("title"), entry.get("title_detail"))
    detail = entry.get("summary_detail")
    body = entry.get("summary")
    if not body and isinstance(entry.get("content"), list) and entry["content"]:
        first = entry["content"][0]
        if isinstance(first, Mapping):
            body, detail = first.get("value"), first
    text, body_links = _plain(body, detail)
    author = entry.get("author_detail") if isinstance(entry.get("author_detail"), Mapping) else {}
    name = author.get("name") or entry.get("author") or ""
    name = name.strip() if isinstance(name, str) else ""
    handle = name.lstrip("@") if name and len(name) <= 100 and not any(ch.isspace() for ch in name) else ""
    return Post(
        platform="rss",
        external_id=external_id,
        text=text[:MAX_TEXT_CHARS],
        title=title[:MAX_TITLE_CHARS],
        url=link,
        author_handle=handle,
        author_name=name[:200],
        created_at=created_at,
        lang=_language(
            (detail or {}).get("language") if isinstance(detail, Mapping) else None,
            (entry.get("title_detail") or {}).get("language") if isinstance(entry.get("title_detail"), Mapping) else None,
            feed.get("language"),
        ),
        links=tuple(dict.fromkeys([link, *body_links] if link else body_links)),
        kind="article",
        raw=dict(entry),
    )


def external_id_for(channel: str, key: str) -> str:
    return "rss:" + hashlib.sha256(f"{channel}\n{key}".encode("utf-8", "surrogatepass")).hexdigest()


# --------------------------------------------------------------------------- the source


class FeedSource(Source):
    platform = "rss"
    supports_search = False

    def __init__(self, *, credentials=None, base_url=None, sleep=time.sleep, transport: httpx.BaseTransport | None = None):
        super().__init__(credentials=credentials, base_url=base_url)
        self.http = PlatformHttp(
            platform="rss",
            base_url="",
            headers={"Accept": ACCEPT},
            max_body_bytes=settings.EARSHOT_FEED_MAX_BYTES,
            sleep=sleep,
            transport=transport,
        )

    @classmethod
    def channel_error(cls, channel: str) -> str:
        return feed_url_error(channel)

    def check_connection(self) -> str:
        return "News feeds need no credentials."

    def pages(self, *, query=None, channel=None, cursor: dict, max_pages: int) -> Iterator[Page]:
        if channel is None:
            raise HarvestError(
                "News feeds cannot be searched: they are read whole as channels. Add the feed's address as a "
                "channel, and its new entries are matched against every saved search on news feeds."
            )
        error = feed_url_error(channel)
        if error:
            raise HarvestError(error)
        return self._read(channel, cursor if isinstance(cursor, Mapping) else {}, max_pages)

    def _read(self, channel: str, cursor: Mapping, max_pages: int) -> Iterator[Page]:
        if max_pages < 1:
            return
        same = cursor.get("feed") == channel
        url = cursor.get("url") if same and not feed_url_error(cursor.get("url")) else channel
        conditional = {}
        if same and isinstance(cursor.get("etag"), str) and cursor["etag"]:
            conditional["If-None-Match"] = cursor["etag"]
        if same and isinstance(cursor.get("last_modified"), str) and cursor["last_modified"]:
            conditional["If-Modified-Since"] = cursor["last_modified"]
        response, moved_to = self._fetch(url, conditional)
        notes = [f"The feed moved permanently to {moved_to}; it is read there from now on."] if moved_to else []
        home = moved_to or url
        if response.status_code == 304:
            kept = dict(cursor) if same else {"feed": channel}
            kept["url"] = home
            yield Page(posts=[], cursor=kept, requests=self.http.take_requests(), notes=notes)
            return
        if response.status_code not in (200, 203):
            raise HarvestError(f"The feed at {url[:200]} answered HTTP {response.status_code}, not a feed.")
        document = parse_feed(response.content, url=str(response.url), content_type=response.headers.get("content-type", ""))
        seen_before = [k for k in cursor.get("seen", ()) if isinstance(k, str)] if same else []
        known = set(seen_before)
        cap = settings.EARSHOT_FEED_MAX_ENTRIES
        entries = document.entries
        if len(entries) > cap:
            notes.append(f"The feed holds {len(entries):,} entries; only the first {cap:,} are read.")
        posts, skipped, current, in_document = [], [], [], set()
        for number, entry in enumerate(entries[:cap], start=1):
            try:
                key = entry_key(entry)
            except BadEntry as bad:
                skipped.append(f"News feed {channel[:120]}: skipped entry {number}: {bad}")
                continue
            external_id = external_id_for(channel, key)
            short = external_id[4:20]
            if short in in_document:
                continue
            in_document.add(short)
            current.append(short)
            if short in known:
                continue
            try:
                posts.append(entry_post(entry, external_id=external_id, feed=document.feed))
            except BadEntry as bad:
                skipped.append(f"News feed {channel[:120]}: skipped {bad}")
        # The keys of this document first: those are the ones the next fetch can bring back.
        seen = list(dict.fromkeys(current + seen_before))[:SEEN_LIMIT]
        new_cursor = {"feed": channel, "url": home, "seen": seen}
        for header, key in (("etag", "etag"), ("last-modified", "last_modified")):
            value = response.headers.get(header)
            if value and len(value) <= 500:
                new_cursor[key] = value
        yield Page(posts=posts, cursor=new_cursor, skipped=skipped, requests=self.http.take_requests(), notes=notes)

    def _fetch(self, url: str, conditional: dict) -> tuple[httpx.Response, str]:
        """GET following redirects; returns the response and where the feed moved for good ("" if it did not)."""
        current, moved_to, permanent = url, "", True
        for _ in range(MAX_REDIRECTS + 1):
            try:
                response = self.http.request("GET", current, what=f"The feed at {current[:200]}", headers=conditional)
            except BadCredentials as refused:
                raise HarvestError(f"The feed at {current[:200]} refused access ({refused}). News feeds are read without credentials.") from None
            if response.status_code not in (301, 302, 303, 307, 308):
                return response, moved_to
            location = response.headers.get("location", "")
            target = urljoin(current, location.strip()) if location else ""
            if not target or feed_url_error(target):
                raise HarvestError(f"The feed at {current[:200]} redirects to {target[:200] or 'nowhere'}, which is not a feed address.")
            if response.status_code in (301, 308) and permanent:
                moved_to = target
            else:
                permanent = False  # whatever follows a temporary hop is not a permanent address
            current = target
        raise HarvestError(f"The feed at {url[:200]} redirected more than {MAX_REDIRECTS} times; stopped at {current[:200]}.")
