"""Reads shared by views and tasks."""

import time
from dataclasses import dataclass
from datetime import timedelta

import psycopg
from django.db import OperationalError, connection, models, transaction
from django.utils import timezone

from listening.models import Mention, SavedSearch, WatchList, WatchListMember
from listening.posts import Post
from listening.query import WatchLists, prepare

TRY_IT_LIMIT = 50_000


def saved_searches_listed(*, team_ids) -> "models.QuerySet[SavedSearch]":
    """The teams' saved searches that lists show: archived ones are left out (admin shows them)."""
    return SavedSearch.objects.filter(team_id__in=list(team_ids), archived_at__isnull=True)


def mention_to_post(mention: Mention) -> Post:
    return mention.as_post()


def watch_lists_by_platform() -> dict[str, dict[str, set[str]]]:
    lists: dict[str, dict[str, set[str]]] = {}
    for platform, name, handle in WatchListMember.objects.values_list("platform", "watch_list__name", "handle"):
        lists.setdefault(platform, {}).setdefault(name, set()).add(handle)
    return lists


def x_list_ids() -> dict[str, str]:
    return dict(WatchList.objects.exclude(x_list_id="").values_list("name", "x_list_id"))


@dataclass
class TryItResult:
    # Candidates read: mentions of the window that passed the SQL prefilter.
    checked: int
    matched: int
    first: list[tuple[Mention, dict]]
    # The budget in seconds when it ran out with candidates still unread; None when all were read.
    stopped_after: float | None = None
    # True when TRY_IT_LIMIT candidates were read and older ones were left.
    limited: bool = False

    @property
    def complete(self) -> bool:
        """True when every candidate was matched, so `matched` is the true count, not a lower bound."""
        return self.stopped_after is None and not self.limited


# What exact matching reads of each candidate (never `raw`).
_POST_COLUMNS = (
    "platform", "external_id", "text", "title", "url", "author_handle", "author_name", "posted_at", "lang", "links",
    "mentions", "in_reply_to_handle", "kind",
)


def try_it_candidates(*, query, since, team_ids=None, lists_by_platform=None) -> "models.QuerySet[Mention]":
    """Mentions first seen since `since` that may match `query`, newest first.

    The SQL prefilter (`prefilter_sql.prefilter_condition`) is a necessary
    condition: every mention the query matches is among these. With team_ids, only
    mentions in those teams' inboxes.
    """
    from listening.prefilter_sql import prefilter_condition

    candidates = Mention.objects.filter(first_seen_at__gte=since).filter(prefilter_condition(query, lists_by_platform))
    if team_ids is not None:
        inbox_items = Mention.inbox_items.rel.related_model.objects.filter(team_id__in=list(team_ids))
        candidates = candidates.filter(id__in=inbox_items.values("mention_id"))
    return candidates.order_by("-first_seen_at", "-id")


# Candidates are read newest first in pages that double in size: a query with few
# candidates costs one small read, and a broad one starts matching at once.
_FIRST_PAGE = 100
_LARGEST_PAGE = 4000


def stored_matches(
    *, query, days: int = 30, show: int = 20, team_ids=None, budget_seconds: float | None = None
) -> TryItResult:
    """Run a query over the mentions stored in the last `days` days, newest first.

    1. Narrow the window to candidates in SQL (`try_it_candidates`), so a query
       for a rare word reads only the few mentions that hold it.
    2. Read the candidates newest first, a page at a time (keyset, never OFFSET),
       only the columns a post needs, and match each exactly (the matcher's own
       prefilter skips most non-matches without tokenising them).
    3. Load the first `show` matches whole, for the panel.

    At most TRY_IT_LIMIT candidates are read, and reading stops once `budget_seconds`
    have passed (at least one candidate is always read); the result says when
    either cut it short, and then its count is a lower bound. When team_ids is
    given, only mentions in those teams' inboxes are read, so the panel never shows
    a post the officer could not otherwise see.
    """
    from listening.query.matcher import Matcher

    started = time.monotonic()
    since = timezone.now() - timedelta(days=days)
    lists = watch_lists_by_platform()
    normalised_lists: dict[str, WatchLists] = {}
    matcher = Matcher([(0, query)])
    candidates = try_it_candidates(query=query, since=since, team_ids=team_ids, lists_by_platform=lists)
    result = TryItResult(checked=0, matched=0, first=[])
    shown: list[tuple[int, dict]] = []
    page_size, after = _FIRST_PAGE, None
    while True:
        page = candidates
        if after is not None:
            page = page.filter(first_seen_at__lte=after[0]).filter(
                models.Q(first_seen_at__lt=after[0]) | models.Q(id__lt=after[1])
            )
        page_started = time.monotonic()
        page = page.values_list("id", "first_seen_at", *_POST_COLUMNS)[:page_size]
        timeout = None if budget_seconds is None else max(budget_seconds - (page_started - started), 0.05)
        try:
            rows = _read_within(page, timeout)
        except QueryCanceled:
            result.stopped_after = budget_seconds
            break
        for row in rows:
            if result.checked == TRY_IT_LIMIT:
                result.limited = True
                break
            if result.checked and budget_seconds is not None and time.monotonic() - started >= budget_seconds:
                result.stopped_after = budget_seconds
                break
            result.checked += 1
            post = _row_post(row)
            post_lists = normalised_lists.get(post.platform)
            if post_lists is None:
                post_lists = normalised_lists[post.platform] = WatchLists(lists.get(post.platform, {}))
            prepared = prepare(post)
            if matcher.match(prepared, lists=post_lists):
                result.matched += 1
                if len(shown) < show:
                    shown.append((row[0], query.spans(prepared, lists=post_lists)))
        if not result.complete or len(rows) < page_size:
            break
        # The next page is twice as large: do not start one the budget cannot cover.
        now = time.monotonic()
        if budget_seconds is not None and now - started + 2 * (now - page_started) >= budget_seconds:
            result.stopped_after = budget_seconds
            break
        after = (rows[-1][1], rows[-1][0])
        page_size = min(2 * page_size, _LARGEST_PAGE)
    if shown:
        by_id = Mention.objects.defer("raw").in_bulk([mention_id for mention_id, _ in shown])
        result.first = [(by_id[mention_id], spans) for mention_id, spans in shown if mention_id in by_id]
    return result


class QueryCanceled(Exception):
    """A read did not finish within its time."""


def _read_within(queryset, seconds: float | None) -> list:
    """The rows of `queryset`, or QueryCanceled when PostgreSQL needs more than `seconds`.

    The planner misjudges now and then (words that come together, a rare author), so
    each page has a statement timeout of what is left of the budget: the answer then
    says its count is a lower bound, instead of arriving late.
    """
    if seconds is None:
        return list(queryset)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # SET LOCAL ends with the savepoint only on rollback: put the old value back.
            cursor.execute("SELECT current_setting('statement_timeout')")
            previous = cursor.fetchone()[0]
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{max(1, int(seconds * 1000))}ms"])
            rows = list(queryset)
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
            return rows
    except OperationalError as error:
        if isinstance(error.__cause__, psycopg.errors.QueryCanceled):
            raise QueryCanceled from error
        raise


def _row_post(row) -> Post:
    (_, _, platform, external_id, text, title, url, author_handle, author_name, posted_at, lang, links, mentions,
     in_reply_to_handle, kind) = row
    return Post(
        platform=platform, external_id=external_id, text=text, title=title, url=url, author_handle=author_handle,
        author_name=author_name, created_at=posted_at, lang=lang, links=tuple(links), mentions=tuple(mentions),
        in_reply_to_handle=in_reply_to_handle, kind=kind,
    )
