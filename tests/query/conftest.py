"""Shared helpers for the query-language conformance suite.

The expectations in the conformance tests are derived from the query-language
specification (QUERY_LANGUAGE.md), which is the contract.
"""

from __future__ import annotations

import pytest


def make_post(text: str = "", **kw):
    """Build a ``listening.posts.Post`` with test-friendly defaults.

    ``platform`` defaults to ``"x"`` and ``external_id`` to ``"1"``; list values
    for ``links`` and ``mentions`` are turned into tuples.
    """
    from listening.posts import Post

    kw.setdefault("platform", "x")
    kw.setdefault("external_id", "1")
    for name in ("links", "mentions"):
        if name in kw and not isinstance(kw[name], tuple):
            kw[name] = tuple(kw[name])
    return Post(text=text, **kw)


@pytest.fixture
def post():
    """Factory fixture: ``post(text="", **fields)`` -> Post."""
    return make_post


@pytest.fixture
def check(post):
    """``check(query, post_kwargs, lists)`` -> result of ``parse(query).matches``.

    ``lists=None`` calls ``matches(post)`` without the keyword.
    """
    from listening.query import parse

    def _check(query, post_kw, lists=None):
        p = post(**post_kw)
        q = parse(query)
        if lists is None:
            return q.matches(p)
        return q.matches(p, lists=lists)

    return _check


@pytest.fixture
def syntax_error():
    """``syntax_error(query)`` -> the QuerySyntaxError raised by ``parse``."""
    from listening.query import QuerySyntaxError, parse

    def _err(query):
        with pytest.raises(QuerySyntaxError) as info:
            parse(query)
        return info.value

    return _err
