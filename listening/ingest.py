"""Storing one harvested page: match, upsert mentions, record hits, fill inboxes.

`page_ingest` runs inside the caller's transaction, together with the cursor update,
so a page is stored whole or not at all.
"""

import json
import math
import re
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field

from django.utils import timezone

from governance.subject_access.suppression import author_digest
from listening.matching import MatchingState, matching_state
from listening.models import Platform
from listening.posts import Post
from listening.query import PreparedPost, WatchLists, prepare
from listening.query.prefilter import stored_haystack
from listening.query.prepared import handle_key
from listening.statements import prepared_cursor
from triage.grouping import (
    GROUPING_LOCK_SQL,
    groupable_text,
    grouping_lock_params,
    original_key,
    original_of,
    page_parts,
    text_key,
)
from triage.services import inbox_items_join_decided

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


def _statement(sql: str) -> str:
    """The statement as sent: no comments, single spaces.

    psycopg parses a statement's placeholders once and caches the parse, but only for
    statements of 4 KB or less; the commented storing statement is longer.
    """
    return " ".join(re.sub(r"--[^\n]*", "", sql).split()).replace(", ", ",")


_STORE_PAGE_SQL = _statement("""
WITH posts AS (
    SELECT * FROM unnest(
        %(platform)b::text[], %(external_id)b::text[], %(url)b::text[], %(author_handle)b::text[],
        %(author_name)b::text[], %(text)b::text[], %(title)b::text[], %(lang)b::text[], %(links)b::text[]::jsonb[],
        %(mentions)b::text[]::jsonb[], %(in_reply_to_handle)b::text[], %(kind)b::text[], %(posted_at)b::timestamptz[],
        %(raw)b::text[]::jsonb[], %(prefilter_text)b::text[]
    ) WITH ORDINALITY AS p(platform, external_id, url, author_handle, author_name, text, title, lang, links,
                           mentions, in_reply_to_handle, kind, posted_at, raw, prefilter_text, n)
),
stored AS (
    INSERT INTO listening_mention (platform, external_id, url, author_handle, author_name, text, title, lang,
                                   links, mentions, in_reply_to_handle, kind, posted_at, first_seen_at, raw,
                                   prefilter_text)
    SELECT platform, external_id, url, author_handle, author_name, text, title, lang,
           ARRAY(SELECT jsonb_array_elements_text(links)),
           ARRAY(SELECT jsonb_array_elements_text(mentions))::varchar[],
           in_reply_to_handle, kind, posted_at, %(now)b, raw, prefilter_text
    FROM posts
    -- Rows in key order, so two pages upserting the same posts cannot deadlock.
    ORDER BY platform, external_id
    -- A no-op update, so RETURNING also reports rows that were already there.
    ON CONFLICT (platform, external_id) DO UPDATE SET platform = EXCLUDED.platform
    RETURNING id, platform, external_id, (xmax = 0) AS inserted
),
keyed AS (
    SELECT posts.n, stored.id, stored.inserted FROM posts JOIN stored USING (platform, external_id)
),
hits AS (
    INSERT INTO listening_mentionhit (mention_id, saved_search_id, spans, matched_at)
    SELECT keyed.id, h.search_id, h.spans, %(now)b
    FROM unnest(%(hit_n)b::bigint[], %(hit_search)b::bigint[], %(hit_spans)b::text[]::jsonb[]) AS h(n, search_id, spans)
    JOIN keyed USING (n)
    ON CONFLICT (mention_id, saved_search_id) DO NOTHING
),
-- One inbox item per viral post (triage/grouping.py): each new item either joins the
-- group of an existing leader sharing one of its keys, or its part of the page (rows
-- sharing keys, named by `part`) gets a new leader, the part's first row. Ids are
-- drawn first so members can name a leader stored by this same statement.
-- Each lookup below can use one index only, so stale statistics cannot steer it to a
-- scan of the team's whole inbox: the keys include the team, and `team_id + 0` keeps
-- the team's own index out of the existence check.
grouping AS (
    SELECT g.n, g.team_id, keyed.id AS mention_id, g.original_key, g.text_key, g.part
    FROM unnest(%(inbox_n)b::bigint[], %(inbox_team)b::bigint[], %(inbox_original)b::bigint[],
                %(inbox_text)b::bigint[], %(inbox_part)b::bigint[]) AS g(n, team_id, original_key, text_key, part)
    JOIN keyed USING (n)
    -- A post stored before may already be in this team's inbox; it stays where it is.
    WHERE keyed.inserted OR (
        SELECT e.id FROM triage_inboxitem e WHERE e.mention_id = keyed.id AND e.team_id + 0 = g.team_id LIMIT 1
    ) IS NULL
),
found AS (
    SELECT grouping.*, nextval('triage_inboxitem_id_seq') AS id,
           coalesce(
               (SELECT l.id FROM triage_inboxitem l
                WHERE l.original_key = grouping.original_key AND l.group_id IS NULL LIMIT 1),
               (SELECT l.id FROM triage_inboxitem l
                WHERE l.text_key = grouping.text_key AND l.group_id IS NULL AND l.text_key IS NOT NULL LIMIT 1)
           ) AS existing
    FROM grouping
),
placed AS (
    SELECT found.id, found.team_id, found.mention_id, found.original_key, found.text_key,
           min(found.existing) OVER part AS joined,
           coalesce(min(found.existing) OVER part, first_value(found.id) OVER (part ORDER BY found.n)) AS leader
    FROM found
    WINDOW part AS (PARTITION BY found.team_id, found.part)
),
inbox AS (
    INSERT INTO triage_inboxitem (id, team_id, mention_id, status, created_at, decided_at, group_id, group_size,
                                  original_key, text_key)
    SELECT placed.id, placed.team_id, placed.mention_id,
           -- Joining a decided group quietly: decided with it (its decision is written just after).
           CASE WHEN placed.joined_done THEN 'done' ELSE 'new' END, %(now)b,
           CASE WHEN placed.joined_done THEN %(now)b END,
           nullif(placed.leader, placed.id),
           CASE WHEN placed.leader = placed.id THEN count(*) OVER (PARTITION BY placed.leader) ELSE 1 END,
           placed.original_key, placed.text_key
    FROM (
        SELECT placed.*,
               coalesce((SELECT l.status = 'done' FROM triage_inboxitem l WHERE l.id = placed.joined), false) AS joined_done
        FROM placed
    ) AS placed
    RETURNING id, mention_id, group_id, status
),
-- Leaders joined by this page grow. The guard is a one-time filter: a page that joined
-- no group (most pages) never touches the table, whatever plan was cached for it; one that
-- did drives index lookups from its few leaders (a plan cached while the table was small
-- had scanned the whole table for every page).
grown AS (
    UPDATE triage_inboxitem l
    SET group_size = l.group_size + j.n
    FROM (SELECT placed.joined, count(*) AS n FROM placed WHERE placed.joined IS NOT NULL GROUP BY placed.joined) AS j
    WHERE l.id = j.joined AND EXISTS (SELECT FROM placed WHERE placed.joined IS NOT NULL)
),
late AS (
    SELECT inbox.id, inbox.group_id, keyed.n FROM inbox JOIN keyed ON keyed.id = inbox.mention_id
    WHERE inbox.status = 'done'
)
SELECT count(*) FILTER (WHERE inserted),
       -- The page and its cursor commit together, so a commit lost in a crash loses
       -- both: the page is read again and stored once. Nothing waits for the disk.
       set_config('synchronous_commit', 'off', true),
       (SELECT array_agg(late.id ORDER BY late.id) FROM late),
       (SELECT array_agg(late.group_id ORDER BY late.id) FROM late),
       (SELECT array_agg(late.n ORDER BY late.id) FROM late)
FROM keyed
""")


_CHECK_NOW_SQL = "SET CONSTRAINTS ALL IMMEDIATE"
_DEFER_AGAIN_SQL = "SET CONSTRAINTS ALL DEFERRED"


@dataclass(frozen=True)
class LateJoin:
    """A new item that joined a group already decided: (item id, leader id, its post)."""

    item_id: int
    leader_id: int
    post: Post


@dataclass(frozen=True)
class PageRows:
    """A page's rows as the storing statement takes them, built without the database.

    `params` are the statement's arrays; `teams` the teams whose grouping locks the
    page takes; `posts` the stored posts by row number, for the late joins.
    """

    params: dict
    teams: frozenset
    posts: tuple


def page_store(
    matched: list[tuple[Post | PreparedPost, dict[int, dict], set[int]]],
) -> tuple[int, list[LateJoin]]:
    """Store matched posts, their hits and inbox items; returns how many were new, and the late joins."""
    return page_write(page_rows(matched))


def page_rows(matched: list[tuple[Post | PreparedPost, dict[int, dict], set[int]]]) -> PageRows:
    """The storing statement's rows for matched posts, their hits and inbox items.

    `matched` holds (post, spans by saved search id, team ids); the post may be the
    `PreparedPost` it was matched with, whose haystack then serves the prefilter text.
    The rows travel as arrays in binary, not as SQL text; JSON values as text, cast in
    SQL (most are an empty list, sent as is). Touches no database, so a page can be
    built while PostgreSQL writes the page before it (`listening.harvest`).
    """
    platform, external_id, url, author_handle, author_name, text, title, lang = [], [], [], [], [], [], [], []
    links, mentions, in_reply_to_handle, kind, posted_at, raw, prefilter_text = [], [], [], [], [], [], []
    hit_n, hit_search, hit_spans = [], [], []
    stored_posts = []
    rows_by_team: dict[int, list[tuple[int, int, int | None]]] = {}
    for n, (given, spans_by_search, teams) in enumerate(matched, start=1):
        prepared = prepare(given)
        post = prepared.post
        # Exactly what is stored, so the prefilter text describes the stored mention.
        stored = (
            _clean(post.url)[:2000],
            _clean(post.author_handle)[:200],
            _clean(post.text),
            _clean(post.title),
            _clean(post.lang)[:10],
            tuple(_clean(link) for link in post.links),
            tuple(_clean(m)[:200] for m in post.mentions),
            _clean(post.in_reply_to_handle)[:200],
            _clean(post.kind)[:20] or "post",
        )
        if stored != (
            post.url, post.author_handle, post.text, post.title, post.lang, post.links, post.mentions,
            post.in_reply_to_handle, post.kind,
        ):
            # Rare (a NUL, an overlong field): the stored post differs from the one matched.
            prepared = PreparedPost(
                Post(
                    platform=post.platform, external_id=post.external_id, url=stored[0], author_handle=stored[1],
                    text=stored[2], title=stored[3], lang=stored[4], links=stored[5], mentions=stored[6],
                    in_reply_to_handle=stored[7], kind=stored[8],
                )
            )
        stored_posts.append(post)
        platform.append(post.platform)
        external_id.append(post.external_id)
        url.append(stored[0])
        author_handle.append(stored[1])
        author_name.append(_clean(post.author_name)[:300])
        text.append(stored[2])
        title.append(stored[3])
        lang.append(stored[4])
        links.append(json.dumps(stored[5]) if stored[5] else "[]")
        mentions.append(json.dumps(stored[6]) if stored[6] else "[]")
        in_reply_to_handle.append(stored[7])
        kind.append(stored[8])
        posted_at.append(post.created_at)
        raw.append(json.dumps(_json_safe(dict(post.raw))) if post.raw else "{}")
        prefilter_text.append(stored_haystack(prepared))
        for search_id, spans in spans_by_search.items():
            hit_n.append(n)
            hit_search.append(search_id)
            hit_spans.append(json.dumps(spans))
        if teams:
            original = original_of(
                platform=post.platform, external_id=post.external_id, kind=post.kind, referenced_id=post.referenced_id
            )
            groupable = groupable_text(post.text or post.title)
            for team_id in teams:
                rows_by_team.setdefault(team_id, []).append(
                    (n, original_key(team_id, original), text_key(team_id, groupable))
                )
    inbox_n, inbox_team, inbox_original, inbox_text, inbox_part = [], [], [], [], []
    for team_id, rows in rows_by_team.items():
        for (n, original, text_hash), part in zip(rows, page_parts(rows)):
            inbox_n.append(n)
            inbox_team.append(team_id)
            inbox_original.append(original)
            inbox_text.append(text_hash)
            inbox_part.append(part)
    params = {
        "platform": platform, "external_id": external_id, "url": url, "author_handle": author_handle,
        "author_name": author_name, "text": text, "title": title, "lang": lang, "links": links,
        "mentions": mentions, "in_reply_to_handle": in_reply_to_handle, "kind": kind, "posted_at": posted_at,
        "raw": raw, "prefilter_text": prefilter_text, "hit_n": hit_n, "hit_search": hit_search,
        "hit_spans": hit_spans, "inbox_n": inbox_n, "inbox_team": inbox_team, "inbox_original": inbox_original,
        "inbox_text": inbox_text, "inbox_part": inbox_part,
    }
    return PageRows(params=params, teams=frozenset(rows_by_team), posts=tuple(stored_posts))


def page_write(rows: PageRows, *, meanwhile: Callable[[], object] | None = None) -> tuple[int, list[LateJoin]]:
    """Write a page's rows; returns how many mentions were new, and the late joins.

    Two statements, server-side bound and prepared: the teams' grouping locks, then one
    statement for everything else. They go out together in pipeline mode, and
    `meanwhile` (a harvest matching its next page) runs while PostgreSQL works: the
    matching and the writing overlap on two cores instead of taking turns. A late join
    is an item that joined an already decided group; the caller records its decision.
    """
    params = {**rows.params, "now": timezone.now()}
    with prepared_cursor() as locks, prepared_cursor() as cursor, cursor.connection.pipeline():
        if rows.teams:
            # Before the storing statement, so its snapshot sees the leaders made by any
            # page of these teams that held the locks before us (triage/grouping.py).
            locks.execute(GROUPING_LOCK_SQL, grouping_lock_params(rows.teams), prepare=True)
        cursor.execute(_STORE_PAGE_SQL, params, prepare=True)
        # The foreign keys of the rows just written are checked now, inside the overlap,
        # instead of at commit (Django declares them deferred); later statements defer again.
        locks.execute(_CHECK_NOW_SQL, prepare=True)
        locks.execute(_DEFER_AGAIN_SQL, prepare=True)
        if meanwhile is not None:
            meanwhile()
        new, _, late_ids, late_leaders, late_n = cursor.fetchone()
    late = [
        LateJoin(item_id=item_id, leader_id=leader_id, post=rows.posts[n - 1])
        for item_id, leader_id, n in zip(late_ids or (), late_leaders or (), late_n or ())
    ]
    return new, late


def _verified_or_watched(post: Post, lists: WatchLists) -> bool:
    """An account whose repost reopens a group decided as no action: verified, or on any watch list."""
    return post.author_verified or bool(post.author_handle and lists.lists_of(handle_key(post.author_handle)))


@dataclass(frozen=True)
class MatchedPage:
    """A page matched and built into rows, not yet written (`page_match`)."""

    fetched: int
    matched: int
    inbox_items: int
    skipped: list[str]
    rows: PageRows | None  # None: nothing matched
    lists: WatchLists


def page_ingest(*, platform: str, posts: list[Post]) -> PageResult:
    """Match a page against every enabled saved search and store what matched.

    1. Evaluate each post with the compiled matcher (prefiltered).
    2. Upsert the matching posts as mentions in one INSERT … ON CONFLICT.
    3. Record one MentionHit per (mention, saved search), with the matched spans.
    4. Create one InboxItem per (team, mention), grouped under the item leading its
       viral post (triage/grouping.py); items joining a decided group are decided with it.
    Re-running a page changes nothing: every insert skips rows that exist.
    """
    return page_commit(page_match(matching_state(platform), posts))


def page_match(state: MatchingState, posts: list[Post]) -> MatchedPage:
    """Steps 1 and the rows of 2–4 of `page_ingest`, without the database.

    Pure Python over the matching state the caller read, so a harvest can match its
    next page while PostgreSQL writes this one (`listening.harvest`).
    """
    compiled, lists = state.searches, state.lists
    unique: dict[tuple[str, str], Post] = {}
    skipped = []
    not_collected = 0
    for post in posts:
        problem = malformed(post)
        if problem:
            skipped.append(f"Skipped {problem}")
            continue
        if state.suppressed and author_digest(post.platform, post.author_handle) in state.suppressed:
            not_collected += 1
            continue
        unique.setdefault((post.platform, post.external_id), post)
    if not_collected:
        # Counted, never named: the list exists so that Earshot stops holding their handle.
        skipped.append(f"Skipped {not_collected} post{'' if not_collected == 1 else 's'} by people whose data was erased"
                       " and who are not collected again")

    stored = []
    inbox_count = 0
    for post in unique.values():
        prepared = prepare(post)  # tokenised once, shared by the matcher and the spans
        search_ids = compiled.matcher.match(prepared, lists=lists)
        if not search_ids:
            continue
        spans = {search_id: compiled.matcher.spans(search_id, prepared, lists=lists) for search_id in search_ids}
        teams = {compiled.team_of[search_id] for search_id in search_ids}
        inbox_count += len(teams)
        stored.append((prepared, spans, teams))
    return MatchedPage(
        fetched=len(posts), matched=len(stored), inbox_items=inbox_count, skipped=skipped,
        rows=page_rows(stored) if stored else None, lists=lists,
    )


def match_if_arrived(into: list, state: MatchingState, upcoming: Future) -> None:
    """Match the next page into `into` if it has arrived: `page_commit`'s `meanwhile` in a harvest.

    A page that has not arrived, or whose fetch failed, is left for the caller; a
    matching error is kept in `into` and raised by the caller once this page is stored.
    """
    if not upcoming.done() or upcoming.exception() is not None or upcoming.result() is None:
        return
    try:
        into.append(page_match(state, upcoming.result().posts))
    except Exception as error:
        into.append(error)


def page_commit(page: MatchedPage, *, meanwhile: Callable[[], object] | None = None) -> PageResult:
    """Write a matched page inside the caller's transaction (steps 2–4 of `page_ingest`).

    `meanwhile` runs while the page is being written (`page_write`), or at once when
    nothing matched.
    """
    new_count = 0
    if page.rows is None:
        if meanwhile is not None:
            meanwhile()
    else:
        new_count, late = page_write(page.rows, meanwhile=meanwhile)
        if late:
            # Rare: reposts arriving after their group was decided.
            inbox_items_join_decided(
                joins=[(join.item_id, join.leader_id, _verified_or_watched(join.post, page.lists)) for join in late]
            )
    return PageResult(
        fetched=page.fetched, matched=page.matched, new=new_count, inbox_items=page.inbox_items, skipped=page.skipped
    )
