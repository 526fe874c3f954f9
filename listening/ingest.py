"""Storing one harvested page: match, upsert mentions, record hits, fill inboxes.

`page_ingest` runs inside the caller's transaction, together with the cursor update,
so a page is stored whole or not at all.
"""

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone

from listening.matching import matching_state
from listening.models import Platform
from listening.posts import Post
from listening.query import prepare
from listening.query.prefilter import stored_haystack

PLATFORMS = frozenset(Platform.values)


@dataclass(frozen=True)
class PageResult:
    fetched: int
    matched: int
    new: int
    inbox_items: int
    skipped: list[str] = field(default_factory=list)


def _json_safe(value):
    """The raw payload as JSON PostgreSQL accepts: no NULs, no NaN, no objects."""
    if isinstance(value, Mapping):
        return {_clean(str(k)): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (int, float, bool)):
        return value
    return _clean(str(value))


def malformed(post) -> str:
    """Why a post cannot be stored, or "" when it can."""
    if not isinstance(post, Post):
        return f"not a post: {type(post).__name__}"
    if not post.external_id or not isinstance(post.external_id, str):
        return "a post without an id"
    if len(post.external_id) > 200 or "\x00" in post.external_id:
        return f"a post with an unusable id {post.external_id[:40]!r}"
    if post.platform not in PLATFORMS:
        return f"a post from an unknown platform {str(post.platform)[:20]!r}"
    if post.created_at is not None and getattr(post.created_at, "tzinfo", None) is None:
        return f"post {post.external_id}: its time has no time zone"
    return ""


def _clean(text: str) -> str:
    # PostgreSQL text cannot hold NUL; a post carrying one must still be stored.
    return text.replace("\x00", "\ufffd") if text else ""


_STORE_PAGE_SQL = """
WITH posts AS (
    SELECT * FROM jsonb_to_recordset(%(page)s::jsonb) AS p(
        platform text, external_id text, url text, author_handle text, author_name text, text text,
        title text, lang text, links jsonb, mentions jsonb, in_reply_to_handle text, kind text,
        posted_at timestamptz, raw jsonb, prefilter_text text, hits jsonb, teams jsonb)
),
stored AS (
    INSERT INTO listening_mention (platform, external_id, url, author_handle, author_name, text, title, lang,
                                   links, mentions, in_reply_to_handle, kind, posted_at, first_seen_at, raw,
                                   prefilter_text)
    SELECT platform, external_id, url, author_handle, author_name, text, title, lang,
           ARRAY(SELECT jsonb_array_elements_text(links)),
           ARRAY(SELECT jsonb_array_elements_text(mentions))::varchar[],
           in_reply_to_handle, kind, posted_at, %(now)s, raw, prefilter_text
    FROM posts
    -- Rows in key order, so two pages upserting the same posts cannot deadlock.
    ORDER BY platform, external_id
    -- A no-op update, so RETURNING also reports rows that were already there.
    ON CONFLICT (platform, external_id) DO UPDATE SET platform = EXCLUDED.platform
    RETURNING id, platform, external_id, (xmax = 0) AS inserted
),
keyed AS (
    SELECT posts.hits, posts.teams, stored.id, stored.inserted
    FROM posts JOIN stored USING (platform, external_id)
),
hits AS (
    INSERT INTO listening_mentionhit (mention_id, saved_search_id, spans, matched_at)
    SELECT keyed.id, (h.hit ->> 0)::bigint, h.hit -> 1, %(now)s
    FROM keyed CROSS JOIN LATERAL jsonb_array_elements(keyed.hits) AS h(hit)
    ON CONFLICT (mention_id, saved_search_id) DO NOTHING
),
inbox AS (
    INSERT INTO triage_inboxitem (team_id, mention_id, status, created_at)
    SELECT t.team_id::bigint, keyed.id, 'new', %(now)s
    FROM keyed CROSS JOIN LATERAL jsonb_array_elements_text(keyed.teams) AS t(team_id)
    ON CONFLICT (team_id, mention_id) DO NOTHING
)
SELECT count(*) FILTER (WHERE inserted),
       -- The page and its cursor commit together, so a commit lost in a crash loses
       -- both: the page is read again and stored once. Nothing waits for the disk.
       set_config('synchronous_commit', 'off', true)
FROM keyed
"""


def page_store(matched: list[tuple[Post, dict[int, dict], set[int]]]) -> int:
    """Store matched posts, their hits and inbox items in one statement; returns how many were new.

    `matched` holds (post, spans by saved search id, team ids). One round trip, on a
    server-side-bound, prepared statement, with the whole page as one JSON document:
    encoding one document (json's C encoder) costs a fraction of adapting a dozen
    arrays element by element, and PostgreSQL unpacks it with `jsonb_to_recordset`.
    """
    from psycopg import Cursor

    now = timezone.now()
    page = []
    for post, spans_by_search, teams in matched:
        # Exactly what is stored, so the prefilter text describes the stored mention.
        stored = Post(
            platform=post.platform,
            external_id=post.external_id,
            url=_clean(post.url)[:2000],
            author_handle=_clean(post.author_handle)[:200],
            text=_clean(post.text),
            title=_clean(post.title),
            lang=_clean(post.lang)[:10],
            links=tuple(_clean(link) for link in post.links),
            mentions=tuple(_clean(m)[:200] for m in post.mentions),
            in_reply_to_handle=_clean(post.in_reply_to_handle)[:200],
            kind=_clean(post.kind)[:20] or "post",
        )
        page.append({
            "platform": stored.platform,
            "external_id": stored.external_id,
            "url": stored.url,
            "author_handle": stored.author_handle,
            "author_name": _clean(post.author_name)[:300],
            "text": stored.text,
            "title": stored.title,
            "lang": stored.lang,
            "links": list(stored.links),
            "mentions": list(stored.mentions),
            "in_reply_to_handle": stored.in_reply_to_handle,
            "kind": stored.kind,
            "posted_at": post.created_at.isoformat() if post.created_at is not None else None,
            "raw": _json_safe(dict(post.raw)),
            "prefilter_text": stored_haystack(stored),
            "hits": [[search_id, spans] for search_id, spans in spans_by_search.items()],
            "teams": sorted(teams),
        })
    connection.ensure_connection()
    with Cursor(connection.connection) as cursor:
        cursor.execute(_STORE_PAGE_SQL, {"page": json.dumps(page), "now": now}, prepare=True)
        new = cursor.fetchone()[0]
    return new


def page_ingest(*, platform: str, posts: list[Post]) -> PageResult:
    """Match a page against every enabled saved search and store what matched.

    1. Evaluate each post with the compiled matcher (prefiltered).
    2. Upsert the matching posts as mentions in one INSERT … ON CONFLICT.
    3. Record one MentionHit per (mention, saved search), with the matched spans.
    4. Create one InboxItem per (team, mention).
    Re-running a page changes nothing: every insert skips rows that exist.
    """
    state = matching_state(platform)
    compiled, lists = state.searches, state.lists
    unique: dict[tuple[str, str], Post] = {}
    skipped = []
    for post in posts:
        problem = malformed(post)
        if problem:
            skipped.append(f"Skipped {problem}")
            continue
        unique.setdefault((post.platform, post.external_id), post)

    matched = []
    for post in unique.values():
        prepared = prepare(post)  # tokenised once, shared by the matcher and the spans
        search_ids = compiled.matcher.match(prepared, lists=lists)
        if search_ids:
            matched.append((post, prepared, search_ids))
    if not matched:
        return PageResult(fetched=len(posts), matched=0, new=0, inbox_items=0, skipped=skipped)

    stored = []
    inbox_count = 0
    for post, prepared, search_ids in matched:
        spans = {search_id: compiled.queries[search_id].spans(prepared, lists=lists) for search_id in search_ids}
        teams = {compiled.team_of[search_id] for search_id in search_ids}
        inbox_count += len(teams)
        stored.append((post, spans, teams))
    new_count = page_store(stored)
    return PageResult(fetched=len(posts), matched=len(matched), new=new_count, inbox_items=inbox_count, skipped=skipped)
