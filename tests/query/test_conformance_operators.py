"""Conformance: the Operators table, NEAR / ~n semantics and related fine print."""

from __future__ import annotations

import pytest

from tests.query.conformance import case, run


LOWERCASE_ARE_WORDS = [
    case("lower-and-is-word-needs-and", "privacy and gdpr", False, text="privacy gdpr"),
    case("lower-and-is-word-present", "privacy and gdpr", True, text="gdpr and privacy"),
    case("lower-or-is-word-not-either", "privacy or gdpr", False, text="gdpr"),
    case("lower-or-is-word-present", "privacy or gdpr", True, text="privacy or gdpr"),
    case("lower-not-is-word-not-negation", "privacy not gdpr", True, text="privacy not gdpr"),
    case("lower-not-is-word-required", "privacy not gdpr", False, text="privacy"),
    case("lower-near-is-word", "privacy near gdpr", True, text="privacy is near gdpr"),
    case("lower-near-is-word-required", "privacy near gdpr", False, text="privacy gdpr"),
    case("mixed-case-or-is-word", "privacy Or gdpr", False, text="gdpr"),
    case("mixed-case-or-is-word-present", "privacy Or gdpr", True, text="privacy or gdpr"),
    case("lower-near-slash-is-words", "privacy near/2 gdpr", True, text="privacy near 2 gdpr"),
    case("lower-near-slash-is-words-required", "privacy near/2 gdpr", False, text="privacy x gdpr"),
]

AND = [
    case("and-both", "privacy AND gdpr", True, text="gdpr protects privacy"),
    case("and-only-left", "privacy AND gdpr", False, text="privacy"),
    case("and-only-right", "privacy AND gdpr", False, text="gdpr"),
    case("adjacency-both", "privacy gdpr", True, text="gdpr protects privacy"),
    case("adjacency-only-left", "privacy gdpr", False, text="privacy"),
    case("adjacency-only-right", "privacy gdpr", False, text="gdpr"),
    case("adjacency-three", "privacy gdpr fine", True, text="fine: gdpr, privacy"),
    case("adjacency-three-missing-one", "privacy gdpr fine", False, text="gdpr, privacy"),
]

OR = [
    case("or-left", "privacy OR gdpr", True, text="privacy"),
    case("or-right", "privacy OR gdpr", True, text="gdpr"),
    case("or-both", "privacy OR gdpr", True, text="privacy gdpr"),
    case("or-neither", "privacy OR gdpr", False, text="freedom of information"),
    case("or-three-last", "privacy OR gdpr OR foi", True, text="FOI request"),
    case("or-three-none", "privacy OR gdpr OR foi", False, text="nothing here"),
]

NOT = [
    case("not-left-only", "privacy NOT gdpr", True, text="privacy"),
    case("not-both", "privacy NOT gdpr", False, text="privacy and gdpr"),
    case("not-right-only", "privacy NOT gdpr", False, text="gdpr"),
    case("minus-left-only", "privacy -gdpr", True, text="privacy"),
    case("minus-both", "privacy -gdpr", False, text="privacy and gdpr"),
    case("minus-right-only", "privacy -gdpr", False, text="gdpr"),
    case("and-not-left-only", "privacy AND NOT gdpr", True, text="privacy"),
    case("and-not-both", "privacy AND NOT gdpr", False, text="privacy gdpr"),
    case("and-minus-left-only", "privacy AND -gdpr", True, text="privacy"),
    case("and-minus-both", "privacy AND -gdpr", False, text="privacy gdpr"),
    case("minus-phrase-excluded", 'privacy -"data protection"', False, text="privacy data protection"),
    case("minus-phrase-not-consecutive", 'privacy -"data protection"', True,
         text="privacy data and protection"),
    case("minus-hashtag-word-ok", "privacy -#gdpr", True, text="privacy gdpr"),
    case("minus-hashtag-hashtag-excluded", "privacy -#gdpr", False, text="privacy #gdpr"),
    case("minus-field", "privacy -from:ICOnews", False, text="privacy", author_handle="ICOnews"),
    case("minus-field-other-author", "privacy -from:ICOnews", True, text="privacy", author_handle="bob"),
    case("not-twice", "privacy NOT gdpr NOT fine", False, text="privacy fine"),
    case("not-twice-ok", "privacy NOT gdpr NOT fine", True, text="privacy"),
    case("hyphen-inside-word-not-negation", "privacy-gdpr", True, text="privacy gdpr"),
    case("hyphen-inside-word-is-phrase", "privacy-gdpr", False, text="privacy"),
    case("not-in-brackets", "privacy (gdpr NOT fine)", False, text="privacy gdpr fine"),
    case("not-in-brackets-ok", "privacy (gdpr NOT fine)", True, text="privacy gdpr"),
    case("not-in-or-branch", "privacy OR (gdpr -fine)", True, text="privacy fine"),
    case("not-in-or-branch-excluded", "privacy OR (gdpr -fine)", False, text="gdpr fine"),
]

GROUPING = [
    case("group-or-then-and", "(privacy OR gdpr) ico", True, text="gdpr ico"),
    case("group-or-then-and-missing", "(privacy OR gdpr) ico", False, text="gdpr"),
    case("group-and-in-or", "privacy OR (gdpr ico)", True, text="gdpr ico"),
    case("group-and-in-or-partial", "privacy OR (gdpr ico)", False, text="gdpr"),
    case("group-nested", "((privacy))", True, text="privacy"),
    case("group-nested-negative", "((privacy))", False, text="gdpr"),
    case("group-and-then-or", "ico (privacy OR gdpr OR foi)", True, text="ICO FOI"),
    case("group-and-then-or-none", "ico (privacy OR gdpr OR foi)", False, text="ICO fine"),
]

NEAR = [
    case("near-two-between", "privacy NEAR/2 gdpr", True, text="privacy and the gdpr"),
    case("near-three-between", "privacy NEAR/2 gdpr", False, text="privacy and the new gdpr"),
    case("near-reverse-order", "privacy NEAR/2 gdpr", True, text="gdpr protects privacy"),
    case("near-punctuation-not-tokens", "privacy NEAR/1 gdpr", True, text="privacy, and -- gdpr!"),
    case("near0-adjacent", "privacy NEAR/0 gdpr", True, text="privacy gdpr"),
    case("near0-adjacent-reverse", "privacy NEAR/0 gdpr", True, text="gdpr privacy"),
    case("near0-one-between", "privacy NEAR/0 gdpr", False, text="privacy x gdpr"),
    case("near-some-occurrence", "privacy NEAR/0 gdpr", True,
         text="gdpr a b c d e f privacy gdpr"),
    case("near-missing-operand", "privacy NEAR/5 gdpr", False, text="privacy only"),
    case("near-1000", "alpha NEAR/1000 omega", True, text="alpha " + "x " * 1000 + "omega"),
    case("near-1000-too-far", "alpha NEAR/1000 omega", False, text="alpha " + "x " * 1001 + "omega"),
    case("near-not-across-title-and-text", "privacy NEAR/5 gdpr", False, title="privacy", text="gdpr"),
    case("nearf-order-ok", "privacy NEAR/2f gdpr", True, text="privacy then gdpr"),
    case("nearf-wrong-order", "privacy NEAR/2f gdpr", False, text="gdpr then privacy"),
    case("nearf-some-occurrence", "privacy NEAR/1f gdpr", True, text="gdpr privacy x gdpr"),
    case("nearf-distance", "privacy NEAR/1f gdpr", False, text="privacy a b gdpr"),
    case("near-phrase-operand", '"data protection" NEAR/2 fine', True, text="a fine for data protection"),
    case("near-phrase-operand-far", '"data protection" NEAR/2 fine', False,
         text="fine a b c data protection"),
    case("near-phrase-operand-after", '"data protection" NEAR/2 fine', True,
         text="data protection breach fine"),
    case("near-or-list-operand", "(privacy OR gdpr) NEAR/1 breach", True, text="gdpr data breach"),
    case("near-or-list-operand-none", "(privacy OR gdpr) NEAR/1 breach", False, text="foi breach"),
    case("near-or-list-operand-far", "(privacy OR gdpr) NEAR/1 breach", False, text="gdpr a b breach"),
    case("near-wildcard-operand", "journo* NEAR/1 request", True, text="journos, request"),
    case("near-wildcard-operand-far", "journo* NEAR/1 request", False, text="journos a b request"),
    case("near-braces-operand", "{ICO} NEAR/1 fine", True, text="ICO issues fine"),
    case("near-braces-operand-case", "{ICO} NEAR/1 fine", False, text="ico issues fine"),
    case("near-hashtag-operand", "#privacy NEAR/1 fine", True, text="#privacy breach fine"),
    case("near-hashtag-operand-not-word", "#privacy NEAR/1 fine", False, text="privacy breach fine"),
    case("near-mention-operand", "@ICOnews NEAR/2 fine", True, text="@ICOnews issued a fine"),
    case("near-mention-operand-needs-text-position", "@ICOnews NEAR/2 fine", False,
         text="issued a fine", mentions=["ICOnews"]),
    case("near-mention-counts-as-token", "privacy NEAR/0 gdpr", False, text="privacy @ICOnews gdpr"),
    case("near-mention-counts-as-one-token", "privacy NEAR/1 gdpr", True, text="privacy @ICOnews gdpr"),
    case("near-hashtag-counts-as-token", "privacy NEAR/0 gdpr", False, text="privacy #uk gdpr"),
]

NEAR_BINDS_TIGHTEST = [
    case("near-or-right-alone", "privacy NEAR/2 gdpr OR foi", True, text="foi"),
    case("near-or-left-near", "privacy NEAR/2 gdpr OR foi", True, text="privacy and gdpr"),
    case("near-or-neither", "privacy NEAR/2 gdpr OR foi", False, text="privacy a b c gdpr"),
    case("or-near-left-alone", "foi OR privacy NEAR/2 gdpr", True, text="foi"),
    case("or-near-gdpr-alone", "foi OR privacy NEAR/2 gdpr", False, text="gdpr"),
    case("near-and-both", "privacy NEAR/0 gdpr fine", True, text="privacy gdpr and a fine"),
    case("near-and-near-fails", "privacy NEAR/0 gdpr fine", False, text="privacy fine gdpr"),
    case("near-and-missing-and-operand", "privacy NEAR/0 gdpr fine", False, text="privacy gdpr"),
]

TILDE = [
    case("tilde-any-order-within", '"privacy data breach"~2', True, text="breach of data and privacy"),
    case("tilde-too-many-others", '"privacy data breach"~2', False, text="breach of the data and privacy"),
    case("tilde-missing-word", '"privacy data breach"~5', False, text="breach of privacy"),
    case("tilde-zero-any-order", '"privacy gdpr"~0', True, text="gdpr privacy"),
    case("tilde-zero-needs-adjacent", '"privacy gdpr"~0', False, text="gdpr and privacy"),
    case("tilde-two-words-equals-near", '"privacy gdpr"~2', True, text="gdpr is about privacy"),
    case("tilde-two-words-equals-near-far", '"privacy gdpr"~2', False, text="gdpr is all about privacy"),
    case("tilde-1000", '"alpha omega"~1000', True, text="omega " + "x " * 1000 + "alpha"),
    case("tilde-not-across-title-and-text", '"privacy gdpr"~5', False, title="privacy", text="gdpr"),
    case("tilde-wildcard-word", '"protect* data"~1', True, text="data protection"),
    case("tilde-case-insensitive", '"the ICO"~1', True, text="ico the"),
]

MORE_OPERATORS = [
    case("near-two-phrases", '"a b" NEAR/0 "c d"', True, text="c d a b"),
    case("near-two-phrases-gap", '"a b" NEAR/0 "c d"', False, text="c d x a b"),
    case("tab-is-adjacency", "privacy\tgdpr", True, text="gdpr privacy"),
    case("newline-is-adjacency", "privacy\ngdpr", False, text="privacy"),
    case("comment-hides-operator", "privacy <<<OR>>> gdpr", False, text="privacy"),
    case("operators-in-quotes-are-words", '"privacy AND gdpr"', True, text="privacy and gdpr"),
    case("operators-in-quotes-are-words-required", '"privacy AND gdpr"', False, text="privacy gdpr"),
    case("not-or-group", "privacy -(gdpr OR foi)", False, text="privacy foi"),
    case("not-or-group-ok", "privacy -(gdpr OR foi)", True, text="privacy"),
    case("tilde-repeated-word-in-text", '"privacy gdpr"~0', True, text="privacy privacy gdpr"),
    case("tilde-repeated-word-in-phrase", '"data data protection"~1', True, text="data protection data"),
    case("tilde-repeated-word-needs-two", '"data data protection"~1', False, text="data protection"),
    case("near-hashtag-not-across-title", "privacy NEAR/5 #gdpr", False, text="privacy", title="#gdpr"),
    case("nearf-reverse-order", "a NEAR/2f b", False, text="b x y a"),
    case("near-mention-operand-adjacent", "privacy NEAR/1 @bob", True, text="privacy @bob"),
    case("tilde-hashtags-reverse", '"privacy matters"~0', True, text="#matters #privacy"),
]

ALL = LOWERCASE_ARE_WORDS + AND + OR + NOT + GROUPING + NEAR + NEAR_BINDS_TIGHTEST + TILDE + MORE_OPERATORS


@pytest.mark.parametrize("query, post_kw, lists, expected", ALL)
def test_operator_matching(check, query, post_kw, lists, expected):
    run(check, query, post_kw, lists, expected)


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("(privacy OR gdpr) ico", id="or-group-and"),
        pytest.param("privacy OR (gdpr ico)", id="and-group-in-or"),
        pytest.param("privacy AND NOT gdpr", id="and-not"),
        pytest.param("privacy AND -gdpr", id="and-minus"),
        pytest.param("privacy NEAR/2 gdpr OR foi", id="near-then-or"),
        pytest.param("privacy NEAR/0 gdpr", id="near-0"),
        pytest.param("privacy NEAR/1000 gdpr", id="near-1000"),
        pytest.param("privacy NEAR/1000f gdpr", id="near-1000f"),
        pytest.param('"privacy gdpr"~0', id="tilde-0"),
        pytest.param('"privacy gdpr"~1000', id="tilde-1000"),
        pytest.param("#privacy NEAR/3 @ICOnews", id="near-hashtag-mention"),
        pytest.param("(privacy OR gdpr) NEAR/3 (breach OR fine)", id="near-or-lists"),
        pytest.param("{The ICO} NEAR/3 journo*", id="near-braces-wildcard"),
    ],
)
def test_valid_operator_queries_parse(query):
    from listening.query import parse

    parse(query)
