"""Reads shared by views and tasks."""

import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import models
from django.utils import timezone

from listening.models import Mention, SavedSearch, WatchList, WatchListMember
from listening.posts import Post

TRY_IT_LIMIT = 50_000


def saved_searches_listed(*, team_ids) -> "models.QuerySet[SavedSearch]":
    """The teams' saved searches that lists show: archived ones are left out (admin shows them)."""
    return SavedSearch.objects.filter(team_id__in=list(team_ids), archived_at__isnull=True)


def mention_to_post(mention: Mention) -> Post:
    return Post(
        platform=mention.platform,
        external_id=mention.external_id,
        text=mention.text,
        title=mention.title,
        url=mention.url,
        author_handle=mention.author_handle,
        author_name=mention.author_name,
        created_at=mention.posted_at,
        lang=mention.lang,
        links=tuple(mention.links),
        mentions=tuple(mention.mentions),
        in_reply_to_handle=mention.in_reply_to_handle,
        kind=mention.kind,
    )


def watch_lists_by_platform() -> dict[str, dict[str, set[str]]]:
    lists: dict[str, dict[str, set[str]]] = {}
    for platform, name, handle in WatchListMember.objects.values_list("platform", "watch_list__name", "handle"):
        lists.setdefault(platform, {}).setdefault(name, set()).add(handle)
    return lists


def x_list_ids() -> dict[str, str]:
    return dict(WatchList.objects.exclude(x_list_id="").values_list("name", "x_list_id"))


@dataclass
class TryItResult:
    checked: int
    matched: int
    first: list[tuple[Mention, dict]]
    # The budget in seconds when it ran out with mentions still unread; None when all were read.
    stopped_after: float | None = None
    # True when TRY_IT_LIMIT mentions were read and older ones were left.
    limited: bool = False


def stored_matches(
    *, query, days: int = 30, show: int = 20, team_ids=None, budget_seconds: float | None = None
) -> TryItResult:
    """Run a query over the mentions stored in the last `days` days, newest first.

    At most TRY_IT_LIMIT mentions are read, and reading stops once `budget_seconds`
    have passed (at least one mention is always read), so the panel answers quickly
    on a large store; the result says when either cut it short. When team_ids is
    given, only mentions in those teams' inboxes are read, so the panel never shows
    a post the officer could not otherwise see.
    """
    started = time.monotonic()
    since = timezone.now() - timedelta(days=days)
    mentions = Mention.objects.filter(first_seen_at__gte=since).order_by("-first_seen_at", "-id")
    if team_ids is not None:
        mentions = mentions.filter(inbox_items__team_id__in=list(team_ids)).distinct()
    lists = watch_lists_by_platform()
    result = TryItResult(checked=0, matched=0, first=[])
    for mention in mentions.defer("raw")[: TRY_IT_LIMIT + 1].iterator(chunk_size=2000):
        if result.checked == TRY_IT_LIMIT:
            result.limited = True
            break
        if result.checked and budget_seconds is not None and time.monotonic() - started >= budget_seconds:
            result.stopped_after = budget_seconds
            break
        result.checked += 1
        post = mention_to_post(mention)
        post_lists = lists.get(post.platform, {})
        if query.matches(post, lists=post_lists):
            result.matched += 1
            if len(result.first) < show:
                result.first.append((mention, query.spans(post, lists=post_lists)))
    return result
