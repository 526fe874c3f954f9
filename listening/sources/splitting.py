"""Searching a query one OR part at a time, for platforms whose search has no OR.

`"data protection" OR #GDPR` is the commonest shape of a listening query, and neither
Bluesky's nor Mastodon's search can take it whole. Each part of a top-level OR is then
searched on its own: the union of the parts' results holds every post the query
matches (each part is compiled only ever wider, see `listening.query.native`), and
every post is matched against the whole query locally afterwards, so splitting only
widens what is fetched.
"""

from collections.abc import Callable

from listening.query import Query, QueryNotSupported
from listening.query.ast import Node, Or


def native_parts(
    query: Query,
    platform: str,
    *,
    compile: Callable[[Query], object] | None = None,
    skip: Callable[[Node], bool] | None = None,
) -> tuple[list, list[str]]:
    """`(natives, missing)`: what to search for the query on `platform`.

    `natives` is `[compile(query)]` when the platform takes the query whole, else one
    native search per part of the query's top-level OR, in order and once each;
    `missing` names (canonically) the parts the platform can't express, which are
    left out. `compile` defaults to `to_native(platform)`; `skip` passes over parts
    the caller reads another way (they count as neither searched nor missing).

    Raises the whole query's QueryNotSupported when it can't be split (its top level
    is no OR), or when no part can be searched and none was passed over.
    """
    compile = compile or (lambda part: part.to_native(platform))
    try:
        return [compile(query)], []
    except QueryNotSupported as whole:
        if not isinstance(query.root, Or):
            raise
        natives: list = []
        missing: list[str] = []
        passed_over = False
        for node in query.root.items:
            if skip is not None and skip(node):
                passed_over = True
                continue
            try:
                native = compile(Query(str(node), node))
            except QueryNotSupported:
                missing.append(str(node))
                continue
            if native not in natives:
                natives.append(native)
        if not natives and not passed_over:
            raise whole
        return natives, missing


def missing_note(label: str, missing: list[str]) -> str:
    """The page note naming the OR parts a platform's search can't express."""
    return f"{label}'s search can't express " + "; ".join(missing) + ": posts matching only that are not fetched"
