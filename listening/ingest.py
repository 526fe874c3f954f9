"""Storing one harvested page: match, upsert mentions, record hits, fill inboxes.

`page_ingest` runs inside the caller's transaction, together with the cursor update,
so a page is stored whole or not at all.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone
from psycopg.types.json import Jsonb

from listening.matching import compiled_searches, watch_lists_for
from listening.models import Mention, MentionHit, Platform
from listening.posts import Post
from listening.query import WatchLists, prepare
from triage.models import InboxItem

_MENTION_COLUMNS = (
    "platform", "external_id", "url", "author_handle", "author_name", "text", "title", "lang",
    "links", "mentions", "in_reply_to_handle", "kind", "posted_at", "first_seen_at", "raw",
)
_PLACEHOLDERS = "(" + ", ".join(
    "%s::text[]" if column == "links" else "%s::varchar[]" if column == "mentions" else "%s"
    for column in _MENTION_COLUMNS
) + ")"


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


def _mention_row(post: Post, now) -> tuple:
    return (
        post.platform, post.external_id, _clean(post.url)[:2000], _clean(post.author_handle)[:200],
        _clean(post.author_name)[:300], _clean(post.text), _clean(post.title), _clean(post.lang)[:10],
        [_clean(link) for link in post.links], [_clean(m)[:200] for m in post.mentions],
        _clean(post.in_reply_to_handle)[:200], _clean(post.kind)[:20] or "post", post.created_at, now,
        Jsonb(_json_safe(dict(post.raw))),
    )


def mentions_upsert(posts: list[Post]) -> tuple[dict[tuple[str, str], int], int]:
    """Insert posts not stored yet, in one statement. Returns ids by key, and how many were new."""
    if not posts:
        return {}, 0
    now = timezone.now()
    params: list = []
    for post in posts:
        params.extend(_mention_row(post, now))
    sql = (
        f"INSERT INTO {Mention._meta.db_table} ({', '.join(_MENTION_COLUMNS)}) VALUES "
        + ", ".join([_PLACEHOLDERS] * len(posts))
        # A no-op update, so RETURNING also reports rows that were already there.
        + " ON CONFLICT (platform, external_id) DO UPDATE SET platform = EXCLUDED.platform"
        + " RETURNING id, platform, external_id, (xmax = 0) AS inserted"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {(platform, external_id): pk for pk, platform, external_id, _ in rows}, sum(1 for *_, new in rows if new)


def page_ingest(*, platform: str, posts: list[Post]) -> PageResult:
    """Match a page against every enabled saved search and store what matched.

    1. Evaluate each post with the compiled matcher (prefiltered).
    2. Upsert the matching posts as mentions in one INSERT … ON CONFLICT.
    3. Record one MentionHit per (mention, saved search), with the matched spans.
    4. Create one InboxItem per (team, mention).
    Re-running a page changes nothing: every insert skips rows that exist.
    """
    compiled = compiled_searches(platform)
    lists = WatchLists(watch_lists_for(platform))
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

    # Rows in key order, so two pages upserting the same posts cannot deadlock.
    ids, new_count = mentions_upsert(sorted((post for post, _, _ in matched), key=lambda p: (p.platform, p.external_id)))
    now = timezone.now()
    hits, inbox = [], {}
    for post, prepared, search_ids in matched:
        mention_id = ids[(post.platform, post.external_id)]
        for search_id in search_ids:
            spans = compiled.queries[search_id].spans(prepared, lists=lists)
            hits.append(MentionHit(mention_id=mention_id, saved_search_id=search_id, spans=spans, matched_at=now))
            team_id = compiled.team_of[search_id]
            inbox[(team_id, mention_id)] = InboxItem(team_id=team_id, mention_id=mention_id)
    MentionHit.objects.bulk_create(hits, ignore_conflicts=True)
    InboxItem.objects.bulk_create(list(inbox.values()), ignore_conflicts=True)
    return PageResult(fetched=len(posts), matched=len(matched), new=new_count, inbox_items=len(inbox), skipped=skipped)
