"""Conformance: every error in the Errors section, with `.position` where pinned.

Positions are pinned only where the spec pins them ("Error positions"): the
operator that lacks an operand, the opening ( / " / { left unclosed, the first
character of an unknown field name or of a leading wildcard.
"""

from __future__ import annotations

import re

import pytest


def test_error_has_message_and_position(syntax_error):
    err = syntax_error('"privacy')
    assert isinstance(err.message, str) and err.message.strip()
    assert isinstance(err.position, int)


def test_query_syntax_error_is_an_exception():
    from listening.query import QuerySyntaxError

    assert issubclass(QuerySyntaxError, Exception)


# ---------------------------------------------------------------------------
# Errors with a pinned position
# ---------------------------------------------------------------------------

POSITIONED = [
    # operator lacking an operand
    pytest.param("privacy AND", 8, id="and-missing-right"),
    pytest.param("privacy OR", 8, id="or-missing-right"),
    pytest.param("OR privacy", 0, id="or-missing-left"),
    pytest.param("AND privacy", 0, id="and-missing-left"),
    pytest.param("privacy NOT", 8, id="not-missing-right"),
    pytest.param("privacy NEAR/3", 8, id="near-missing-right"),
    pytest.param("NEAR/3 privacy", 0, id="near-missing-left"),
    pytest.param("privacy AND (gdpr OR)", 18, id="or-missing-right-in-brackets"),
    pytest.param("privacy (gdpr AND)", 14, id="and-missing-right-in-brackets"),
    pytest.param("privacy (OR gdpr)", 9, id="or-missing-left-in-brackets"),
    # leading NOT: the NOT lacks its left operand
    pytest.param("NOT privacy", 0, id="leading-not"),
    pytest.param("-privacy", 0, id="leading-minus"),
    pytest.param("privacy (NOT gdpr)", 9, id="bracket-starts-with-not"),
    pytest.param("privacy (-gdpr)", 9, id="bracket-starts-with-minus"),
    pytest.param("(NOT privacy) gdpr", 1, id="first-bracket-starts-with-not"),
    # opening ( " { left unclosed
    pytest.param("(privacy", 0, id="unclosed-paren"),
    pytest.param("gdpr (privacy OR foi", 5, id="unclosed-paren-later"),
    pytest.param("((privacy) gdpr", 0, id="unclosed-outer-paren"),
    pytest.param('"privacy', 0, id="unclosed-quote"),
    pytest.param('privacy "data protection', 8, id="unclosed-quote-later"),
    pytest.param('"a" OR "b', 7, id="unclosed-second-quote"),
    pytest.param("{ICO", 0, id="unclosed-brace"),
    pytest.param("privacy {ICO", 8, id="unclosed-brace-later"),
    # unknown field name: its first character
    pytest.param("autor:bob", 0, id="unknown-field"),
    pytest.param("privacy AND autor:bob", 12, id="unknown-field-later"),
    pytest.param("(privacy OR Autor:bob)", 12, id="unknown-field-in-brackets"),
    # leading wildcard: its first character
    pytest.param("*journo", 0, id="leading-star"),
    pytest.param("?ournal", 0, id="leading-question"),
    pytest.param("privacy ?ournal", 8, id="leading-question-later"),
    pytest.param("privacy *journo", 8, id="leading-star-later"),
    pytest.param('"the *ICO"', 5, id="leading-star-in-phrase"),
    pytest.param("{*ICO}", 1, id="leading-star-in-braces"),
]


@pytest.mark.parametrize("query, position", POSITIONED)
def test_error_position(syntax_error, query, position):
    err = syntax_error(query)
    assert err.position == position, (
        f"{query!r}: position {err.position}, expected {position} "
        f"(message: {err.message!r})"
    )


# ---------------------------------------------------------------------------
# Errors without a pinned position
# ---------------------------------------------------------------------------

UNPOSITIONED = [
    pytest.param("", id="empty"),
    pytest.param("   ", id="whitespace-only"),
    pytest.param("<<<just a comment>>>", id="comment-only"),
    pytest.param('""', id="empty-phrase"),
    pytest.param('privacy ""', id="empty-phrase-later"),
    pytest.param('"   "', id="blank-phrase"),
    pytest.param("()", id="empty-brackets"),
    pytest.param("privacy ()", id="empty-brackets-later"),
    pytest.param("privacy ( )", id="blank-brackets-later"),
    pytest.param("{}", id="empty-braces"),
    pytest.param("privacy)", id="unmatched-close-paren"),
    pytest.param("privacy }", id="unmatched-close-brace"),
    pytest.param("ICO}", id="unmatched-close-brace-attached"),
    pytest.param("privacy >>>", id="unmatched-close-comment"),
    pytest.param("privacy <<<note", id="unclosed-comment"),
    pytest.param("privacy AND OR gdpr", id="and-or-adjacent"),
    pytest.param("privacy OR OR gdpr", id="or-or"),
    pytest.param("privacy OR -gdpr", id="or-minus-mixed"),
    pytest.param("NOT", id="not-alone"),
    pytest.param("-from:bob", id="negative-field-only"),
    pytest.param("privacy NEAR gdpr", id="near-no-number"),
    pytest.param("privacy NEAR/ gdpr", id="near-slash-no-number"),
    pytest.param("privacy NEAR/x gdpr", id="near-not-number"),
    pytest.param("privacy NEAR/1.5 gdpr", id="near-not-whole"),
    pytest.param("privacy NEAR/1001 gdpr", id="near-over-1000"),
    pytest.param("privacy NEAR/2F gdpr", id="near-uppercase-f"),
    pytest.param("a NEAR/2 b NEAR/2 c", id="near-chained"),
    pytest.param("(a NEAR/1 b) NEAR/1 c", id="near-near-operand"),
    pytest.param("(a b) NEAR/2 c", id="near-and-operand"),
    pytest.param("(a AND b) NEAR/2 c", id="near-explicit-and-operand"),
    pytest.param("(a NOT b) NEAR/2 c", id="near-not-operand"),
    pytest.param("a NEAR/2 -b", id="near-minus-operand"),
    pytest.param("from:bob NEAR/2 c", id="near-field-operand"),
    pytest.param("a NEAR/2 (b OR from:bob)", id="near-or-list-with-field"),
    pytest.param("a NEAR/2 (b OR c d)", id="near-or-list-with-and"),
    pytest.param('a NEAR/2 (b OR "c d"~2)', id="near-or-list-with-tilde"),
    pytest.param("a NEAR/2 is:reply", id="near-is-operand"),
    pytest.param("privacy AND AND gdpr", id="and-and"),
    pytest.param("privacy OR NOT gdpr", id="or-not"),
    pytest.param('"a b"~2 NEAR/3 c', id="near-tilde-operand"),
    pytest.param('"a b"~1001', id="tilde-over-1000"),
    pytest.param('"a b"~', id="tilde-no-number"),
    pytest.param("privacy~3", id="tilde-after-word"),
    pytest.param("{ICO}~2", id="tilde-after-braces"),
    pytest.param("(a OR b)~2", id="tilde-after-brackets"),
    pytest.param("&", id="ampersand-term"),
    pytest.param("privacy &", id="ampersand-later"),
    pytest.param("privacy & gdpr", id="ampersand-between"),
    pytest.param("privacy \U0001F512", id="emoji-term"),
    pytest.param("privacy - gdpr", id="lone-minus"),
    pytest.param('"!!!"', id="phrase-without-letters"),
    pytest.param("*", id="lone-star"),
    pytest.param("author: bob", id="field-space-before-value"),
    pytest.param("from: bob", id="from-space-before-value"),
    pytest.param("is:original", id="is-unknown-value"),
    pytest.param("has:images", id="has-unknown-value"),
    pytest.param("has:link", id="has-singular-value"),
    pytest.param("privacy " * 600, id="over-4096-chars"),
    pytest.param("a" * 4097, id="4097-chars"),
]


@pytest.mark.parametrize("query", UNPOSITIONED)
def test_syntax_error(syntax_error, query):
    err = syntax_error(query)
    assert isinstance(err.position, int)
    assert 0 <= err.position <= len(query)


def test_exactly_4096_chars_is_allowed():
    from listening.query import parse

    parse("a" * 4096)


# ---------------------------------------------------------------------------
# Messages (only the spec-given, stable content)
# ---------------------------------------------------------------------------

MIXED = [
    pytest.param("a OR b AND c", id="or-then-and"),
    pytest.param("a b OR c", id="adjacency-then-or"),
    pytest.param("a NOT b OR c", id="not-then-or"),
    pytest.param("a OR b c", id="or-then-adjacency"),
    pytest.param("a -b OR c", id="minus-then-or"),
    pytest.param("(a OR b c) d", id="mixed-inside-brackets"),
]


@pytest.mark.parametrize("query", MIXED)
def test_mixed_and_or_asks_for_brackets(syntax_error, query):
    err = syntax_error(query)
    assert re.search(r"bracket|parenthes", err.message, re.IGNORECASE), err.message


@pytest.mark.parametrize(
    "query, suggestion",
    [
        pytest.param("autor:bob", "author:", id="autor"),
        pytest.param("Autor:bob", "author:", id="autor-capitalised"),
        pytest.param("privacy autor:bob", "author:", id="autor-later"),
        pytest.param("langauge:en", "language:", id="langauge"),
    ],
)
def test_unknown_field_suggests_nearest(syntax_error, query, suggestion):
    err = syntax_error(query)
    assert suggestion in err.message.lower(), err.message


def test_is_retweet_suggests_is_repost(syntax_error):
    err = syntax_error("is:retweet")
    assert "is:repost" in err.message, err.message


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("https://ico.org.uk", id="https"),
        pytest.param("http://ico.org.uk/about", id="http"),
        pytest.param("privacy https://ico.org.uk/about", id="https-later"),
    ],
)
def test_url_in_query_suggests_links_or_url(syntax_error, query):
    err = syntax_error(query)
    assert "links:" in err.message or "url:" in err.message, err.message

