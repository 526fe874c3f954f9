"""A long post costs its length: NEAR and `~n` never pair every occurrence with every other.

Anyone can post; a post repeating two searched words tens of thousands of times
used to keep the matcher busy for minutes on an ordinary `privacy NEAR/3 breach`.
The timeouts are hang guards, not timings.
"""

import pytest

from listening.posts import Post
from listening.query import parse

MANY = 50_000


def post(text: str) -> Post:
    return Post(platform="x", external_id="1", text=text)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "query, text, expected",
    [
        pytest.param("privacy NEAR/3 breach", "privacy " * MANY + "x " * 4 + "breach " * MANY, False, id="near-far"),
        pytest.param("privacy NEAR/3 breach", "privacy " * MANY + "x " * 3 + "breach " * MANY, True, id="near-just"),
        pytest.param("breach NEAR/3f privacy", "privacy " * MANY + "breach " * MANY, False, id="near-ordered"),
        pytest.param('"privacy breach"~3', "privacy " * MANY + "x " * 4 + "breach " * MANY, False, id="tilde-far"),
        pytest.param('"privacy breach"~3', "privacy " * MANY + "x " * 3 + "breach " * MANY, True, id="tilde-just"),
    ],
)
def test_it_matches_near_and_tilde_on_a_post_of_100000_words(query, text, expected):
    assert parse(query).matches(post(text)) is expected


@pytest.mark.timeout(60)
def test_it_highlights_every_near_pair_of_a_long_post():
    text = "privacy breach " * 20_000
    spans = parse("privacy NEAR/0 breach").spans(post(text))["text"]
    assert len(spans) == 40_000
    assert spans[:2] == [(0, 7), (8, 14)] and spans[-1] == (len(text) - 7, len(text) - 1)


@pytest.mark.timeout(60)
def test_a_tilde_phrase_of_1500_words_neither_crashes_nor_hangs():
    query = parse('"' + "a " * 1500 + '"~5')
    assert query.matches(post("a " * 1500))
    assert not query.matches(post("a " * 1499))


@pytest.mark.parametrize(
    "query, text, expected",
    [
        ('"a a b"~0', "a b a", True),
        ('"a a b"~0', "a b c a", False),
        ('"a a a"~1', "a x a a", True),
        ('"a* ab"~0', "ab ab", True),
        ('"a* ab"~0', "ab", False),
        ('"ab* a* abc"~0', "abc ab abc", True),
        ('"ab* a* abc"~0', "abc x abc", False),
    ],
)
def test_each_word_of_a_tilde_phrase_takes_its_own_token(query, text, expected):
    assert parse(query).matches(post(text)) is expected
