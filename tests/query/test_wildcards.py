"""Wildcard terms match in time linear in the token, with the same answers as before.

The reference is the regular expression wildcard terms used to be matched with,
kept here only as an oracle (`old_pattern`: `?` was `[^_.]` and `*` was `[^_.]*`).
Where combining marks are involved, `reference_pattern` extends it with the
rulings on them (QUERY_LANGUAGE.md): `?` takes a letter or digit with all the
marks after it, and marks typed straight after a wildcard must be among the marks
of the last letter it takes. The alphabets below never compose under NFC, so the
marks the oracle sees are the ones NFD would give.
"""

import re
import unicodedata
from collections import Counter

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from listening.posts import Post
from listening.query import parse
from listening.query.wildcards import WildcardTerm

ACUTE, DIAERESIS, VOWEL_SIGN_I = "\u0301", "\u0308", "\u093f"  # two nonspacing marks, one spacing mark
MARKS = ACUTE + DIAERESIS + VOWEL_SIGN_I
M = f"[{MARKS}]"


def _typed_marks_lookahead(typed: str) -> str:
    """At a run of marks: it holds each typed mark, as many times as typed."""
    return "".join(f"(?=(?:{M}*?{re.escape(mark)}){{{count}}})" for mark, count in Counter(typed).items())


def reference_pattern(form: str) -> re.Pattern:
    """The old backtracking regex builder, with the rulings on combining marks added."""
    parts = []
    for wildcard, typed, literal in re.findall(rf"([*?])({M}*)|([^*?])", form):
        if literal:
            parts.append(re.escape(literal))
        elif wildcard == "?":
            # One letter or digit (not `_` or `.`, never a bare mark) with all its marks.
            parts.append(rf"[^_.{MARKS}]{_typed_marks_lookahead(typed)}{M}*+")
        elif not typed:
            parts.append(r"[^_.]*")
        else:
            unit = rf"[^_.{MARKS}]{M}*+"
            last_unit = rf"[^_.{MARKS}]{_typed_marks_lookahead(typed)}{M}*+"
            # Whole units ending in one that holds the typed marks, or no unit and
            # the marks left after the letter before hold them.
            parts.append(rf"(?:{M}*+(?:{unit})*{last_unit}|{_typed_marks_lookahead(typed)}{M}*+)")
    return re.compile("".join(parts), re.DOTALL)


BASES = ["b", "q", "7", "_", "."]


@st.composite
def term_and_token(draw, marks=MARKS):
    """A term, and a token that is either drawn freely or filled in from the term (so it often matches)."""
    unit_text = st.builds(
        lambda base, unit_marks: base + "".join(unit_marks),
        st.sampled_from(BASES),
        st.lists(st.sampled_from(marks), max_size=2) if marks else st.just([]),
    )
    term = draw(
        st.builds(
            lambda first, rest: first + "".join(rest),
            st.sampled_from(["b", "q", "7"]),
            st.lists(st.sampled_from(BASES + list(marks) + ["*", "?", "*", "?"]), max_size=7),
        ).filter(lambda term: "*" in term or "?" in term)
    )
    if draw(st.booleans()):
        return term, draw(st.lists(unit_text, min_size=1, max_size=6).map("".join))
    token = "".join(
        draw(st.lists(unit_text, max_size=3).map("".join)) if char == "*"
        else draw(unit_text) if char == "?"
        else char
        for char in term
    )
    if token[1:] and draw(st.booleans()):
        # Drop one character (often a mark): near misses are where mistakes show.
        cut = draw(st.integers(1, len(token) - 1))
        token = token[:cut] + token[cut + 1 :]
    return term, token


@settings(max_examples=2000, deadline=None)
@given(term_and_token())
@example(("b*" + ACUTE + "*", "bq" + ACUTE + "7"))
@example(("b?" + VOWEL_SIGN_I, "bq" + VOWEL_SIGN_I))
@example(("b*" + ACUTE, "b" + ACUTE))
@example(("b" + ACUTE + "*" + ACUTE, "b" + ACUTE + ACUTE))
@example(("b?q", "b" + VOWEL_SIGN_I + "q"))
def test_it_agrees_with_the_reference_regex(case):
    term, token = case
    # The oracle cannot decompose characters: the alphabets are chosen so NFC changes nothing.
    assert unicodedata.normalize("NFC", term) == term and unicodedata.normalize("NFC", token) == token
    expected = reference_pattern(term).fullmatch(token) is not None
    assert WildcardTerm(term).matches(token) is expected, (term, token)


def old_pattern(form: str) -> re.Pattern:
    """The regex builder wildcard terms were matched with, word for word."""
    parts = []
    for piece in re.split(r"([*?])", form):
        if piece == "*":
            parts.append(r"[^_.]*")
        elif piece == "?":
            parts.append(r"[^_.]")
        elif piece:
            parts.append(re.escape(piece))
    return re.compile("".join(parts), re.DOTALL)


@settings(max_examples=1000, deadline=None)
@given(term_and_token(marks=""))
def test_without_combining_marks_it_agrees_with_the_old_regex_itself(case):
    term, token = case
    expected = old_pattern(term).fullmatch(token) is not None
    assert WildcardTerm(term).matches(token) is expected, (term, token)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "query, token, expected",
    [
        pytest.param("a*a*a*a*a*a*a*a*a*a*a*a*b", "a" * 100_000, False, id="twelve-stars-no-match"),
        pytest.param("a*a*a*a*a*a*a*a*a*a*a*a*b", "a" * 99_999 + "b", True, id="twelve-stars-match"),
        pytest.param("a?a*a?a*a?a*a?a*a?a*a?a*b", "a" * 100_000, False, id="stars-and-questions-no-match"),
        pytest.param("a?a*a?a*a?a*a?a*a?a*a?a*b", "a" * 99_999 + "b", True, id="stars-and-questions-match"),
        pytest.param("a*a*a*a*a*" + VOWEL_SIGN_I + "a*b", ("a" + VOWEL_SIGN_I) * 50_000, False, id="typed-mark"),
    ],
)
def test_it_matches_a_many_wildcard_term_against_a_100000_character_token(query, token, expected):
    post = Post(platform="x", external_id="1", text=f"see {token} now")
    assert parse(query).matches(post) is expected


@pytest.mark.parametrize(
    "form, token, expected",
    [
        ("journo*", "journo" + VOWEL_SIGN_I, True),
        ("i?o", "i" + VOWEL_SIGN_I + "o", False),
        ("br??ch", "brss" + VOWEL_SIGN_I + "ch", True),
        ("t?" + VOWEL_SIGN_I, "ta" + VOWEL_SIGN_I, True),
        ("t?" + VOWEL_SIGN_I, "ta", False),
        ("t?" + ACUTE, "t\u00e1", True),
        ("t*" + ACUTE, "tx\u00e1", True),
        ("t*" + ACUTE, "t\u00e1x", False),
        ("résume*", "résumé", False),
        ("data*", "data_protection", False),
        ("a*b*c", "axxbyyc", True),
        ("a*b*c", "axxcyyb", False),
        ("a*b", "a.b", False),
    ],
)
def test_it_follows_the_rulings_on_wildcards(form, token, expected):
    assert WildcardTerm(form).matches(token) is expected
