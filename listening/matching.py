"""The compiled matcher over every enabled saved search, cached per process.

The cache is keyed by the matching generation (listening migration 0010), which
triggers bump whenever a search, a watch list or a not-collected author changes, so
any such change rebuilds the matcher on the next page a worker ingests.
"""

import logging
from dataclasses import dataclass

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


def _enabled(platform: str):
    return SavedSearch.objects.filter(enabled=True, platform_states__platform=platform)


def compiled_searches(platform: str) -> CompiledSearches:
    """The compiled enabled searches for `platform`, from the same cache as `matching_state`."""
    return matching_state(platform).searches


def _compile(platform: str) -> CompiledSearches:
    queries, team_of = {}, {}
    for search_id, team_id, text in _enabled(platform).values_list("id", "team_id", "query").order_by("id"):
        try:
            queries[search_id] = parse(text)
        except QuerySyntaxError as error:
            log.error("Saved search %s has an invalid query and is skipped: %s", search_id, error.message)
            continue
        team_of[search_id] = team_id
    return CompiledSearches(matcher=Matcher(queries.items()), queries=queries, team_of=team_of)


_state_cache: dict[str, tuple[int, "MatchingState"]] = {}


@dataclass(frozen=True)
class MatchingState:
    searches: CompiledSearches
    lists: WatchLists
    # Digests of authors whose posts are not stored again after an erasure
    # (governance.subject_access.suppression); usually empty.
    suppressed: frozenset = frozenset()


# Bumped by triggers whenever a search, watch list or not-collected author the matcher
# reads changes (listening migration 0010).
_STAMP_SQL = "SELECT generation FROM listening_matching_generation"


def matching_state(platform: str) -> MatchingState:
    """The compiled searches and watch lists for `platform`, checked in one query a page.

    The check reads the matching generation, one row that triggers bump whenever an
    enabled search, a watch list's members or the authors not collected after an
    erasure change; anything else is served from this process's cache. Without the row
    (it is never deleted) nothing is cached.
    """
    with prepared_cursor() as cursor:  # server-side bound and prepared: once a page
        cursor.execute(_STAMP_SQL, prepare=True)
        row = cursor.fetchone()
    stamp = row[0] if row else None
    cached = _state_cache.get(platform)
    if stamp is not None and cached and cached[0] == stamp:
        return cached[1]
    from governance.subject_access.suppression import suppressed_digests

    state = MatchingState(
        searches=_compile(platform), lists=WatchLists(watch_lists_for(platform)), suppressed=suppressed_digests(platform),
    )
    if stamp is not None:
        _state_cache[platform] = (stamp, state)
    return state


def watch_lists_for(platform: str) -> dict[str, set[str]]:
    """Watch-list name -> handles on `platform`, for `list:` in queries."""
    lists: dict[str, set[str]] = {}
    for name, handle in WatchListMember.objects.filter(platform=platform).values_list("watch_list__name", "handle"):
        lists.setdefault(name, set()).add(handle)
    return lists
