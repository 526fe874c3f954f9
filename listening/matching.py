"""The compiled matcher over every enabled saved search, cached per process.

The cache is keyed by a stamp of the enabled searches (how many, and the latest
edit), so an edited, added, disabled or deleted search rebuilds the matcher on the
next page a worker ingests.
"""

import logging
import threading
from dataclasses import dataclass

from django.db.models import Count, Max

from listening.models import SavedSearch, WatchListMember
from listening.query import QuerySyntaxError, WatchLists, parse
from listening.query.matcher import Matcher
from listening.statements import prepared_cursor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompiledSearches:
    matcher: Matcher
    queries: dict  # saved search id -> Query
    team_of: dict  # saved search id -> team id


_cache: dict[str, tuple[tuple, CompiledSearches]] = {}
_lock = threading.Lock()


def _enabled(platform: str):
    return SavedSearch.objects.filter(enabled=True, platform_states__platform=platform)


def compiled_searches(platform: str) -> CompiledSearches:
    stamp_row = _enabled(platform).aggregate(n=Count("id"), latest=Max("updated_at"))
    stamp = (stamp_row["n"], stamp_row["latest"])
    cached = _cache.get(platform)
    if cached and cached[0] == stamp:
        return cached[1]
    with _lock:
        queries, team_of = {}, {}
        for search_id, team_id, text in _enabled(platform).values_list("id", "team_id", "query").order_by("id"):
            try:
                queries[search_id] = parse(text)
            except QuerySyntaxError as error:
                log.error("Saved search %s has an invalid query and is skipped: %s", search_id, error.message)
                continue
            team_of[search_id] = team_id
        compiled = CompiledSearches(matcher=Matcher(queries.items()), queries=queries, team_of=team_of)
        _cache[platform] = (stamp, compiled)
        return compiled


_state_cache: dict[str, tuple[tuple, "MatchingState"]] = {}


@dataclass(frozen=True)
class MatchingState:
    searches: CompiledSearches
    lists: WatchLists
    # Digests of authors whose posts are not stored again after an erasure
    # (governance.subject_access.suppression); usually empty.
    suppressed: frozenset = frozenset()


_STAMP_SQL = """
SELECT searches.n, searches.latest, members.n, members.hash, suppressed.n, suppressed.hash
FROM (SELECT count(*) AS n, max(s.updated_at) AS latest FROM listening_savedsearch s
      WHERE s.enabled AND EXISTS (SELECT 1 FROM listening_savedsearchplatform p
                                  WHERE p.saved_search_id = s.id AND p.platform = %(platform)s)) AS searches,
     (SELECT count(*) AS n, coalesce(sum(hashtext(w.name || '/' || m.handle)::bigint), 0) AS hash
      FROM listening_watchlistmember m JOIN listening_watchlist w ON w.id = m.watch_list_id
      WHERE m.platform = %(platform)s) AS members,
     (SELECT count(*) AS n, coalesce(sum(hashtext(a.digest)::bigint), 0) AS hash
      FROM governance_suppressedauthor a WHERE a.platform = %(platform)s) AS suppressed
"""


def matching_state(platform: str) -> MatchingState:
    """The compiled searches and watch lists for `platform`, checked in one query a page.

    The stamp covers the enabled searches (how many, the latest edit), the watch
    lists' members (how many, and a sum of hashes of list and handle, so an edited
    handle counts as a change) and the authors not collected after an erasure (how
    many, and a sum of hashes); anything else is served from this process's cache.
    """
    with prepared_cursor() as cursor:  # server-side bound and prepared: once a page
        cursor.execute(_STAMP_SQL, {"platform": platform}, prepare=True)
        stamp = tuple(cursor.fetchone())
    cached = _state_cache.get(platform)
    if cached and cached[0] == stamp:
        return cached[1]
    from governance.subject_access.suppression import suppressed_digests

    state = MatchingState(
        searches=compiled_searches(platform), lists=WatchLists(watch_lists_for(platform)),
        suppressed=suppressed_digests(platform) if stamp[4] else frozenset(),
    )
    _state_cache[platform] = (stamp, state)
    return state


def watch_lists_for(platform: str) -> dict[str, set[str]]:
    """Watch-list name -> handles on `platform`, for `list:` in queries."""
    lists: dict[str, set[str]] = {}
    for name, handle in WatchListMember.objects.filter(platform=platform).values_list("watch_list__name", "handle"):
        lists.setdefault(name, set()).add(handle)
    return lists
