"""Benchmark: ingest (normalise, match, store mentions, hits and inbox items).

`run()` works in a scratch database of its own (created, migrated and dropped
here), so a benchmark never touches real data. It makes 200 saved searches on one
platform, generates realistic posts of which about a fifth match, and times:

1. ingest over every post, in pages of 100, each page in its own transaction with
   a cursor update, the next page matched while this one is written, as a harvest
   stores it;
2. a raw `COPY` of exactly the rows that ingest wrote (mentions, hits, inbox items)
   into the same, emptied tables, in chunks of 5,000 rows a transaction;
3. one ORM `save()` per stored row (mention, then its hits and inbox items), on a
   sample.

Rates are stored mentions per second, so the three compare like for like. It runs
in three states: empty tables; tables already holding a million mentions (then
ANALYZEd, as autovacuum would); and tables just emptied by a large DELETE with
their statistics left as the purge leaves them. Figures are returned, never
asserted (DESIGN.md, performance targets).
"""

import dataclasses
import gc
import os
import random
import time
from concurrent.futures import Future
from contextlib import contextmanager
from functools import partial

from django.conf import settings
from django.db import connection, transaction

from listening.benchmarks.matching import generate_lists, generate_posts, generate_searches

PAGE_SIZE = 100
COPY_CHUNK = 5_000
ORM_SAMPLE = 2_000
PLATFORM = "x"


@contextmanager
def scratch_database():
    """A freshly migrated database beside the configured one, dropped afterwards."""
    name = f"{settings.DATABASES['default']['NAME']}_bench_{os.getpid()}"
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = name
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield name
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _setup_searches(n_searches: int, rng: random.Random) -> dict[str, set[str]]:
    from accounts.models import Team
    from listening.models import SavedSearch, SavedSearchPlatform, WatchList, WatchListMember

    teams = [Team.objects.create(name=f"Bench team {i}", slug=f"bench-{i}") for i in range(4)]
    lists = generate_lists(rng)
    for name, handles in lists.items():
        watch_list = WatchList.objects.create(name=name)
        WatchListMember.objects.bulk_create(WatchListMember(watch_list=watch_list, platform=PLATFORM, handle=h) for h in handles)
    for number, text in enumerate(generate_searches(rng, n_searches)):
        search = SavedSearch.objects.create(team=teams[number % len(teams)], name=f"Search {number}", query=text)
        SavedSearchPlatform.objects.create(saved_search=search, platform=PLATFORM)
    return lists


def _relevant_posts(rng: random.Random, count: int, prefix: str):
    """Posts where about a fifth match: the matching benchmark's generator, more relevant."""
    posts = generate_posts(rng, count, relevant_share=0.2)
    return [dataclasses.replace(p, external_id=f"{prefix}{p.external_id}") for p in posts]


def _time_ingest(posts) -> tuple[float, int]:
    """Store pages as a harvest does (listening/harvest.py): each page in its own transaction
    with a cursor update, the next page matched while this one is written."""
    from listening.ingest import match_if_arrived, page_commit, page_match
    from listening.matching import matching_state
    from listening.models import SavedSearchPlatform

    state = SavedSearchPlatform.objects.first()
    pages = [posts[start : start + PAGE_SIZE] for start in range(0, len(posts), PAGE_SIZE)]
    stored = 0
    gc.collect()
    started = time.perf_counter()
    matched = page_match(matching_state(PLATFORM), pages[0])
    for number, page in enumerate(pages):
        following = []
        with transaction.atomic():
            meanwhile = None
            if number + 1 < len(pages):
                upcoming = Future()
                upcoming.set_result(_Page(pages[number + 1]))  # in memory: it has always arrived
                meanwhile = partial(match_if_arrived, following, matching_state(PLATFORM), upcoming)
            result = page_commit(matched, meanwhile=meanwhile)
            SavedSearchPlatform.objects.filter(pk=state.pk).update(cursor={"offset": (number + 1) * PAGE_SIZE})
        stored += result.new
        if following and isinstance(following[0], Exception):
            raise following[0]
        matched = following[0] if following else None
    return time.perf_counter() - started, stored


@dataclasses.dataclass(frozen=True)
class _Page:
    posts: list


def _dump_rows(prefix: str):
    """What ingest wrote for the posts with `prefix`, as rows to COPY back in."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, platform, external_id, url, author_handle, author_name, text, title, lang, links, mentions,"
            " in_reply_to_handle, kind, posted_at, first_seen_at, raw::text, prefilter_text FROM listening_mention"
            " WHERE external_id LIKE %s ORDER BY id",
            [prefix + "%"],
        )
        mentions = cursor.fetchall()
        cursor.execute(
            "SELECT h.mention_id, h.saved_search_id, h.spans::text, h.matched_at FROM listening_mentionhit h"
            " JOIN listening_mention m ON m.id = h.mention_id WHERE m.external_id LIKE %s",
            [prefix + "%"],
        )
        hits = cursor.fetchall()
        cursor.execute(
            "SELECT i.id, i.team_id, i.mention_id, i.status, i.created_at, i.group_id, i.group_size, i.original_key,"
            " i.text_key FROM triage_inboxitem i"
            " JOIN listening_mention m ON m.id = i.mention_id WHERE m.external_id LIKE %s"
            " ORDER BY i.group_id IS NOT NULL, i.id",  # leaders first: members name them
            [prefix + "%"],
        )
        inbox = cursor.fetchall()
    return mentions, hits, inbox


def _delete_prefix(prefix: str) -> None:
    """Delete what a step stored, children first (Django's foreign keys do not cascade in the database)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM listening_mention WHERE platform = %s AND external_id LIKE %s", [PLATFORM, prefix + "%"])
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute("DELETE FROM triage_inboxitem WHERE mention_id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM listening_mentionhit WHERE mention_id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM listening_mention WHERE id = ANY(%s)", [ids])


def _time_copy(mentions, hits, inbox) -> float:
    """COPY the same rows back into the (emptied of them) tables, 5,000 rows a transaction."""
    mention_columns = (
        "id, platform, external_id, url, author_handle, author_name, text, title, lang, links, mentions,"
        " in_reply_to_handle, kind, posted_at, first_seen_at, raw, prefilter_text"
    )
    gc.collect()
    started = time.perf_counter()
    for table, columns, rows in (
        ("listening_mention", mention_columns, mentions),
        ("listening_mentionhit", "mention_id, saved_search_id, spans, matched_at", hits),
        ("triage_inboxitem", "id, team_id, mention_id, status, created_at, group_id, group_size, original_key, text_key", inbox),
    ):
        for start in range(0, len(rows), COPY_CHUNK):
            with transaction.atomic(), connection.cursor() as cursor:
                with cursor.connection.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows[start : start + COPY_CHUNK]:
                        copy.write_row(row)
    return time.perf_counter() - started


def _time_orm(posts, lists) -> tuple[float, int]:
    """One ORM save() per row, for the matched posts of a sample."""
    from listening.matching import compiled_searches
    from listening.models import Mention, MentionHit
    from listening.query import WatchLists, prepare
    from triage.models import InboxItem

    compiled = compiled_searches(PLATFORM)
    watch = WatchLists(lists)
    stored = 0
    gc.collect()
    started = time.perf_counter()
    for post in posts:
        prepared = prepare(post)
        search_ids = compiled.matcher.match(prepared, lists=watch)
        if not search_ids:
            continue
        mention = Mention(
            platform=post.platform, external_id=post.external_id, url=post.url, author_handle=post.author_handle,
            text=post.text, lang=post.lang, links=list(post.links), mentions=list(post.mentions),
            in_reply_to_handle=post.in_reply_to_handle, kind=post.kind, posted_at=post.created_at, raw={},
        )
        mention.save()
        teams = set()
        for search_id in search_ids:
            MentionHit(mention=mention, saved_search_id=search_id, spans=compiled.queries[search_id].spans(prepared, lists=watch)).save()
            teams.add(compiled.team_of[search_id])
        for team_id in teams:
            InboxItem(team_id=team_id, mention=mention).save()
        stored += 1
    return time.perf_counter() - started, stored


def _preload(count: int) -> None:
    """A million mentions already stored, written in SQL so the load takes seconds, not minutes."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO listening_mention (platform, external_id, url, author_handle, author_name, text, title, lang,"
            " links, mentions, in_reply_to_handle, kind, posted_at, first_seen_at, raw, prefilter_text)"
            " SELECT 'x', 'pre' || n, 'https://x.com/u/status/' || n, 'user' || (n %% 50000), '',"
            " 'earlier post number ' || n || ' about the weather and the football', '', 'en', '{}', '{}', '', 'post',"
            " now() - (n || ' seconds')::interval, now(), '{}'::jsonb,"
            # stored_haystack of these ASCII rows: text, title, URL, then author, reply-to, platform, lang, kind.
            " concat_ws(E'\\n', 'earlier post number ' || n || ' about the weather and the football', '',"
            " 'https://x.com/u/status/' || n, 'user' || (n %% 50000), '', 'x', 'en', 'post')"
            " FROM generate_series(1, %s) AS n",
            [count],
        )


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE listening_mention; ANALYZE listening_mentionhit; ANALYZE triage_inboxitem")


def _measure(label: str, posts, lists, prefix: str, orm_sample: int) -> dict:
    ingest_seconds, stored = _time_ingest(posts)
    mentions, hits, inbox = _dump_rows(prefix)
    _delete_prefix(prefix)
    copy_seconds = _time_copy(mentions, hits, inbox)
    _delete_prefix(prefix)
    orm_seconds, orm_stored = _time_orm(posts[:orm_sample], lists)
    _delete_prefix(prefix)
    return {
        "label": label,
        "posts": len(posts),
        "stored": stored,
        "hits": len(hits),
        "inbox_items": len(inbox),
        "inbox_groups": sum(1 for row in inbox if row[5] is None),
        "posts_per_second": len(posts) / ingest_seconds,
        "ingest_per_second": stored / ingest_seconds,
        "copy_per_second": len(mentions) / copy_seconds,
        "orm_per_second": orm_stored / orm_seconds if orm_stored else 0.0,
        "orm_sample": orm_stored,
    }


def run(n_posts: int = 200_000, n_searches: int = 200, preload: int = 1_000_000, seed: int = 20261202) -> list[dict]:
    rng = random.Random(seed)
    figures = []
    with scratch_database():
        lists = _setup_searches(n_searches, rng)
        orm_sample = min(ORM_SAMPLE, n_posts)
        posts = _relevant_posts(rng, n_posts, "a")
        figures.append(_measure("empty tables", posts, lists, "a", orm_sample))

        _preload(preload)
        _analyze()
        posts = _relevant_posts(rng, n_posts, "b")
        figures.append(_measure(f"{preload:,} mentions stored", posts, lists, "b", orm_sample))

        # A purge: most rows deleted, statistics still describing the full table.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM listening_mention WHERE external_id LIKE 'pre%%'")
        posts = _relevant_posts(rng, n_posts, "c")
        figures.append(_measure("after a large delete, stale statistics", posts, lists, "c", orm_sample))
    return figures


def format_report(figures: list[dict]) -> str:
    lines = ["Ingest: normalise, match, store (mentions, hits, inbox items); rates are stored mentions/s"]
    for f in figures:
        copy_ratio = f["ingest_per_second"] / f["copy_per_second"] if f["copy_per_second"] else 0.0
        orm_ratio = f["ingest_per_second"] / f["orm_per_second"] if f["orm_per_second"] else 0.0
        met = copy_ratio >= 1 / 3 and orm_ratio >= 10
        lines += [
            f"  {f['label']}: {f['posts']:,} posts, {f['stored']:,} stored, {f['hits']:,} hits, {f['inbox_items']:,} inbox items"
            f" ({f.get('inbox_groups', f['inbox_items']):,} in the inbox after grouping)",
            f"    ingest:           {f['ingest_per_second']:>9,.0f} mentions/s  ({f['posts_per_second']:,.0f} posts/s read)",
            f"    raw COPY:         {f['copy_per_second']:>9,.0f} mentions/s  -> ingest is {copy_ratio:.2f} of COPY",
            f"    ORM save per row: {f['orm_per_second']:>9,.0f} mentions/s  -> ingest is {orm_ratio:.1f}x "
            f"(sample of {f['orm_sample']:,})",
            f"    target (>= 1/3 of COPY and >= 10x ORM): {'met' if met else 'NOT met'}",
        ]
    return "\n".join(lines)

