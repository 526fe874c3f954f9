"""Every syntax error: a message a comms officer understands, and where the caret goes."""

import pytest

from listening.query import QuerySyntaxError, parse


def error(query):
    with pytest.raises(QuerySyntaxError) as info:
        parse(query)
    return info.value


@pytest.mark.parametrize(
    "query, position, words",
    [
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("<<<only a comment>>>", 0, "empty"),
        ('privacy "the ICO', 8, 'closing "'),
        ("privacy (gdpr OR ico", 8, "add a )"),
        ("x ((a OR b) c", 2, "add a )"),
        ("gdpr)", 4, "Unmatched )"),
        ("{ICO news", 0, "closing }"),
        ("ICO}", 3, "Unmatched }"),
        ("privacy <<<note", 8, "add >>>"),
        ("privacy >>>", 8, "Unmatched >>>"),
        ('privacy ""', 8, "Empty phrase"),
        ('privacy " & "', 8, "Empty phrase"),
        ("privacy ()", 8, "Empty brackets"),
        ("privacy {}", 8, "Empty {"),
        ("GDPR AND", 5, "AND needs a term on each side"),
        ("OR GDPR", 0, "OR needs a term on each side"),
        ("GDPR OR", 5, "OR needs a term on each side"),
        ("GDPR AND AND privacy", 5, "AND needs"),
        ("GDPR NOT", 5, "NOT needs a term"),
        ("NOT spam", 0, "can't start with NOT"),
        ("-spam privacy", 0, "can't start with -"),
        ("privacy (NOT spam)", 9, "Brackets can't start with NOT"),
        ("privacy OR NOT spam", 11, "NOT can't follow OR"),
        ("privacy OR -spam", 11, "- can't follow OR"),
        ("a OR b AND c", 7, "brackets"),
        ("a b OR c", 4, "brackets"),
        ("a NOT b OR c", 8, "brackets"),
        ("a OR b c", 7, "brackets"),
        ("*journo", 0, "can't start with a wildcard"),
        ("privacy ?cy", 8, "wildcard"),
        ('"data *protection"', 6, "wildcard"),
        ("#*data", 1, "wildcard"),
        ("a NEAR b", 2, "NEAR needs a distance"),
        ("a NEAR/ b", 2, "whole number"),
        ("a NEAR/x b", 2, "whole number"),
        ("a NEAR/1001 b", 2, "0 to 1000"),
        ("a NEAR/3F b", 2, "lowercase f"),
        ("a NEAR/2 b NEAR/2 c", 11, "can't be chained"),
        ("a NEAR/2", 2, "NEAR/2 needs a word"),
        ("NEAR/2 a", 0, "NEAR/2 needs a term"),
        ("a NEAR/2 NOT b", 2, "NEAR/2 needs a word"),
        ("a NEAR/2 author:bob", 9, "not on author:"),
        ("(a b) NEAR/2 c", 1, "OR-list"),
        ('"a b"~2 NEAR/3 c', 0, "~n phrase"),
        ("privacy~3", 7, "~ goes only straight after a closing quote"),
        ("{ICO}~2", 5, "~ goes only"),
        ('"data breach"~', 13, "whole number"),
        ('"data breach"~1001', 13, "0 to 1000"),
        ('"data breach"~2x', 13, "whole number"),
        ("privacy autor:bob", 8, "did you mean author:?"),
        ("privacy Langauge:en", 8, "did you mean language:?"),
        ("xyzzy:1", 0, "Unknown operator"),
        ("author: bob", 7, "straight after author:"),
        ("is:retweet", 3, "did you mean is:repost?"),
        ("is:shared", 3, "is:repost"),
        ("has:link", 4, "did you mean has:links?"),
        ("has:media", 4, "has: takes links, mentions or hashtags"),
        ("author:(alice bob)", 14, "with OR"),
        ("author:(alice AND bob)", 14, "Only OR"),
        ("author:()", 7, "Empty brackets"),
        ("author:(alice", 7, "add a )"),
        ('list:"tech journalists', 5, 'closing "'),
        ("privacy https://ico.org.uk", 8, "links:"),
        ('"see www.ico.org.uk"', 5, "url:"),
        ("&", 0, "letter or digit"),
        ("privacy 🙂", 8, "letter or digit"),
        ("privacy - spam", 8, "A lone -"),
        ("privacy --spam", 8, "single -"),
        ("#_", 0, "letter or digit"),
        ("a" * 4097, 4096, "4,096"),
    ],
)
def test_it_explains_each_error_at_the_offending_character(query, position, words):
    found = error(query)
    assert words in found.message
    assert found.position == position


def test_the_example_message_for_an_unclosed_quote_is_word_for_word():
    assert error('"the ICO').message == 'Unclosed quote: add a closing " to finish the phrase'


def test_a_query_of_exactly_4096_characters_is_allowed():
    parse("a " * 2048)


def test_positions_count_characters_of_the_query_as_typed_even_when_not_normalised():
    # "e" + combining acute is two characters as typed, one after NFC.
    assert error('cafe\u0301 "unclosed').position == 6


def test_lowercase_operators_are_ordinary_words():
    assert str(parse("privacy and gdpr or not near")) == "privacy AND and AND gdpr AND or AND not AND near"


def test_a_word_with_a_colon_that_is_not_a_field_name_is_words():
    assert str(parse("10:30")) == '"10 30"'
    assert str(parse("Note: privacy")) == "Note AND privacy"


def test_field_names_are_case_insensitive():
    assert str(parse("Author:bob FROM:alice")) == "author:bob AND author:alice"


def test_and_not_and_and_minus_mean_not():
    assert str(parse("a AND NOT b")) == str(parse("a NOT b")) == str(parse("a AND -b")) == str(parse("a -b"))


def test_syntax_errors_carry_message_and_position_attributes():
    found = error("GDPR AND")
    assert (found.message, found.position) == (found.args[0], found.args[1])
    assert str(found) == found.message


def test_it_refuses_brackets_nested_too_deep_instead_of_crashing():
    found = error("(" * 60 + "privacy" + ")" * 60)
    assert "brackets inside each other" in found.message
    assert found.position == 50
    parse("(" * 50 + "privacy" + ")" * 50)
