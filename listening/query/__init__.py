"""Earshot's saved-search query language (see QUERY_LANGUAGE.md).

    from listening.query import parse, QuerySyntaxError
    q = parse('"the ICO" OR links:ico.org.uk')
    q.matches(post)

Pure Python: imports and runs without Django configured.
"""

from listening.query.errors import QueryNotSupported, QuerySyntaxError
from listening.query.prepared import PreparedPost, WatchLists, prepare
from listening.query.query import Query, parse

__all__ = ["parse", "Query", "QuerySyntaxError", "QueryNotSupported", "PreparedPost", "WatchLists", "prepare"]
