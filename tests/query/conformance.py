"""The case table helpers every conformance file shares."""

import pytest


def case(id, query, expected, lists=None, **post_kw):
    """One row: `query` run on a post with `post_kw` (and watch `lists`) gives `expected`."""
    return pytest.param(query, post_kw, lists, expected, id=id)


def run(check, query, post_kw, lists, expected):
    got = check(query, post_kw, lists)
    assert got is expected, (
        f"parse({query!r}).matches(post(**{post_kw!r}), lists={lists!r}) returned {got!r}; "
        f"the spec says {expected!r}"
    )
