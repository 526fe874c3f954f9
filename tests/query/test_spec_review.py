"""Regression tests for places where the implementation read QUERY_LANGUAGE.md differently.

Each test names the behaviour the specification asks for.
"""

import pytest

from listening.query import QuerySyntaxError, parse

KNOWN_OPERATORS = {
    "author", "from", "to", "mentions", "links", "site", "url", "lang", "language", "platform", "list", "is", "has",
}


def error(query: str) -> QuerySyntaxError:
    with pytest.raises(QuerySyntaxError) as info:
        parse(query)
    return info.value


# "an unknown one is an error that suggests the nearest known operator"


@pytest.mark.parametrize("query", ["xyzzy:1", "q:privacy", "tag:privacy", "in:reply"])
def test_an_unknown_operator_far_from_every_known_one_still_gets_the_nearest_suggested(query):
    found = error(query)
    assert found.position == 0
    assert "did you mean" in found.message
    suggested = found.message.split("did you mean ", 1)[1].split(":?", 1)[0]
    assert suggested in KNOWN_OPERATORS


@pytest.mark.parametrize(
    "query, suggestion",
    [
        ("domain:ico.org.uk", "links:"),
        ("user:bob", "author:"),
        ("privacy reply:ICOnews", "to:"),
        ("autor:bob", "author:"),
        ("Autor:bob", "author:"),
    ],
)
def test_an_unknown_operator_suggests_the_known_operator_it_most_likely_means(query, suggestion):
    assert f"did you mean {suggestion}?" in error(query).message


def test_an_unknown_operator_error_points_at_the_first_character_of_its_name():
    assert error("privacy -domain:ico.org.uk").position == 9
    assert error("(xyzzy:1)").position == 1


# "Error positions point at the offending character", as the rulings settle it: a
# bracketed NEAR operand is reported at the thing inside the brackets NEAR does not
# take, and a bracketed AND, NOT or NEAR group at its first operand.


@pytest.mark.parametrize(
    "query, position",
    [
        ("(a NEAR/1 b) NEAR/1 c", 1),
        ("x (a NEAR/1 b) NEAR/1 c", 3),
        ("a NEAR/1 (b NEAR/1 c)", 10),
        ("(author:bob) NEAR/2 c", 1),
        ('("a b"~2) NEAR/2 c', 1),
        ("(a b) NEAR/2 c", 1),
    ],
)
def test_a_bracketed_operand_near_does_not_take_is_reported_inside_the_brackets(query, position):
    assert error(query).position == position


def test_a_bracketed_word_or_phrase_is_still_a_near_operand():
    from listening.posts import Post

    post = Post(platform="x", external_id="1", text="data protection and a fee")
    assert parse('(("data protection")) NEAR/2 (fee)').matches(post)
    assert not parse('("data protection") NEAR/1f (fee)').matches(post)
