"""Conformance: "Rulings from differential testing", one group per bullet, with
every example the rulings give."""

from __future__ import annotations

import pytest

from tests.query.conformance import case, run

VOWEL_SIGN_I = "\u093f"  # a spacing combining mark (Devanagari)
ACUTE = "\u0301"
ASTRAL_ACCENT = "\U00016af0"  # BASSA VAH COMBINING HIGH TONE: a nonspacing mark beyond U+FFFF


# ---------------------------------------------------------------------------
# Matching
# ---------------------------------------------------------------------------

RULINGS = [
    # Typographic quotes are read as "
    case("typographic-quotes", "\u201cdata protection\u201d", True, text="our data protection officer"),
    case("typographic-quotes-phrase", "\u201cdata protection\u201d", False, text="protection of data"),
    case("low-quote", "\u201edata protection\u201c", True, text="data protection"),
    case("typographic-quotes-tilde", "\u201cdata protection\u201d~1", True, text="protection of data"),
    # Trailing ? is punctuation on field values too
    case("trailing-q-lang", "lang:en?", True, lang="en"),
    case("trailing-q-is-reply", "is:reply?", True, kind="reply"),
    # ~ not followed by a digit separates terms as a space does
    case("tilde-alone-is-space", "privacy~", True, text="privacy"),
    case("tilde-separates-not-phrase", "privacy~gdpr", True, text="gdpr and privacy"),
    case("tilde-after-braces-is-space", "{ICO}~", True, text="the ICO"),
    case("tilde-after-brackets-is-space", "(ico OR gdpr)~", True, text="gdpr"),
    # Field values: NEAR… inside a list is an operator only as NEAR or NEAR/n
    case("value-list-nearby-is-a-value", "author:(NEARBY OR alice)", True, author_handle="nearby"),
    # Field names are ASCII letters: anything else before the colon is words
    case("non-ascii-field-name-is-words", "café:menu", True, text="café menu"),
    case("non-ascii-field-name-phrase", "café:menu", False, text="menu café"),
    # www. starts a URL only when something follows the dot
    case("bare-www-is-word", "www", True, text="type www. then the name"),
    case("bare-www-no-link", "has:links", False, text="type www. then the name"),
    case("bare-www-query-is-word", "www.", True, text="www is short for world wide web"),
    # Handles: exactly one leading @ is ignored
    case("handle-double-at", "author:bob", False, author_handle="@@bob"),
    case("handle-single-at", "author:bob", True, author_handle="@bob"),
    case("handle-double-at-value", "author:@@bob", True, author_handle="@@bob"),
    case("mentions-double-at", "mentions:bob", False, mentions=["@@bob"]),
    # mentions are NFC-normalised like text
    case("mentions-nfc-braces", "{@Zoë}", True, mentions=["Zoe\u0308"]),
    case("mentions-nfc-field", "mentions:zoë", True, mentions=["Zoe\u0308"]),
    # Empty strings in links or mentions do not count
    case("has-links-empty-string", "has:links", False, links=[""]),
    case("has-links-blank-string", "has:links", False, links=["  "]),
    case("has-links-real", "has:links", True, links=["", "https://ico.org.uk"]),
    case("has-mentions-empty-string", "has:mentions", False, mentions=[""]),
    case("has-mentions-lone-at", "has:mentions", False, mentions=["@"]),
    # is:reply needs a reply-to handle holding a letter or digit
    case("is-reply-at-only", "is:reply", False, in_reply_to_handle="@"),
    case("is-reply-at-and-spaces", "is:reply", False, in_reply_to_handle=" @ "),
    case("is-reply-underscore", "is:reply", False, in_reply_to_handle="_"),
    case("is-reply-handle", "is:reply", True, in_reply_to_handle="@bob"),
    # links:, url: and site: compare after NFC and full case folding
    case("links-full-folding", "links:straße.de", True, links=["https://STRASSE.de/x"]),
    case("url-full-folding", "url:straße", True, url="https://STRASSE.de/x"),
    case("site-full-folding", "site:straße.de", True, url="https://www.STRASSE.de/x"),
    case("links-nfc", "links:zoë.example", True, links=["https://zoe\u0308.example/"]),
    # A scheme-relative URL has the host after the //
    case("links-scheme-relative", "links:bbc.co.uk", True, links=["//bbc.co.uk/news"]),
    case("site-scheme-relative", "site:bbc.co.uk", True, url="//bbc.co.uk/news"),
    case("links-scheme-relative-path", "links:bbc.co.uk/news", True, links=["//www.bbc.co.uk/news/uk"]),
    # In a query, @ starts a mention after anything but a letter, digit or _
    case("query-at-after-wildcard", "x*@y", True, text="xa @y"),
    case("query-at-after-wildcard-needs-mention", "x*@y", False, text="xa y"),
    case("query-at-after-letter-is-not-mention", "x@y", True, text="x y"),
    # Accents are any nonspacing mark after NFD, in any plane
    case("astral-accent-ignored", "cafe", True, text="cafe" + ASTRAL_ACCENT),
    case("astral-accent-needed", "cafe" + ASTRAL_ACCENT, False, text="cafe"),
    case("astral-accent-exact", "cafe" + ASTRAL_ACCENT, True, text="CAFE" + ASTRAL_ACCENT),
    # Wildcards and combining marks
    case("question-takes-letter-with-marks", "br??ch", True, text="brss" + VOWEL_SIGN_I + "ch"),
    case("question-never-takes-bare-mark", "i?o", False, text="i" + VOWEL_SIGN_I + "o"),
    case("star-takes-marks-of-letter-before", "journo*", True, text="journo" + VOWEL_SIGN_I),
    # Inside a field value ~ is an ordinary character
    case("tilde-in-url-value", "url:x.com/~u", True, url="https://x.com/~u/1"),
    case("tilde-in-url-value-list", "url:(x.com/~u OR y.org)", True, links=["https://x.com/~u"]),
    case("tilde-in-url-value-exact", "url:x.com/~u", False, url="https://x.com/u"),
    # A mark typed straight after ? or * is among the marks of the last letter it takes
    case("typed-mark-after-question", "t?" + VOWEL_SIGN_I, True, text="ta" + VOWEL_SIGN_I),
    case("typed-mark-after-question-missing", "t?" + VOWEL_SIGN_I, False, text="ta"),
    case("typed-accent-after-question", "t?" + ACUTE, True, text="t\u00e1"),
    case("typed-accent-after-star", "t*" + ACUTE, True, text="tex\u00e1"),
    case("typed-accent-after-star-last-letter", "t*" + ACUTE, False, text="t\u00e1x"),
    case("typed-mark-star-takes-no-letter", "jo*" + VOWEL_SIGN_I, True, text="jo" + VOWEL_SIGN_I),
    case("typed-mark-star-takes-nothing", "jo*" + VOWEL_SIGN_I, False, text="jo"),
]


@pytest.mark.parametrize("query, post_kw, lists, expected", RULINGS)
def test_rulings_matching(check, query, post_kw, lists, expected):
    run(check, query, post_kw, lists, expected)


# ---------------------------------------------------------------------------
# Errors, at the position the rulings give
# ---------------------------------------------------------------------------

RULING_ERRORS = [
    # Nesting: more than 50 deep is an error at the 51st (
    pytest.param("(" * 51 + "a" + ")" * 51, 50, id="nesting-51"),
    pytest.param("x " + "(" * 60 + "a" + ")" * 60, 52, id="nesting-60-later"),
    # ~ straight after a quoted phrase needs a number; elsewhere ~ before digits is an error
    pytest.param('"a b"~', 5, id="tilde-after-phrase-no-number"),
    pytest.param('"a b"~x', 5, id="tilde-after-phrase-letter"),
    pytest.param("privacy~3", 7, id="tilde-number-after-word"),
    pytest.param("{ICO}~2", 5, id="tilde-number-after-braces"),
    pytest.param("(a OR b)~2", 8, id="tilde-number-after-brackets"),
    pytest.param("privacy ~2", 8, id="tilde-number-alone"),
    pytest.param('"a~3 b"', 2, id="tilde-number-inside-quotes"),
    # Field values need a letter or digit; only OR inside a value list
    pytest.param("author:_", 7, id="value-author-underscore"),
    pytest.param("url:_", 4, id="value-url-underscore"),
    pytest.param("lang:-", 5, id="value-lang-dash"),
    pytest.param('list:"_"', 5, id="value-list-quoted-underscore"),
    pytest.param("author:(a OR NEAR)", 13, id="value-list-near"),
    pytest.param("author:(a OR NEAR/2 b)", 13, id="value-list-near-n"),
    pytest.param("author:(a AND b)", 10, id="value-list-and"),
    pytest.param("author:(a NOT b)", 10, id="value-list-not"),
    # ~n phrases are never NEAR operands, bracketed or not
    pytest.param('"a"~2 NEAR/2 c', 0, id="one-word-tilde-near"),
    pytest.param('c NEAR/2 "a"~2', 9, id="one-word-tilde-near-right"),
    pytest.param('("a"~2) NEAR/2 c', 1, id="bracketed-tilde-near"),
    pytest.param('a NEAR/2 (b OR "c d"~1)', 15, id="tilde-in-near-or-list"),
    # Several errors: the leftmost offending character
    pytest.param("q --x", 2, id="leftmost-double-minus"),
    pytest.param("author:(alice OR OR bob)", 14, id="leftmost-or-or-in-values"),
    pytest.param("database OR tax AND NOT", 16, id="leftmost-mixing-before-missing-operand"),
    pytest.param("(a OR b c", 0, id="leftmost-unclosed-bracket"),
    pytest.param('OR a "unclosed', 0, id="leftmost-parser-before-lexer"),
    pytest.param("a OR b c & d", 7, id="leftmost-mixing-before-bad-term"),
    pytest.param("a) OR (b", 1, id="leftmost-unmatched-before-unclosed"),
    pytest.param("autor:x (a OR b c", 0, id="leftmost-unknown-field-first"),
    pytest.param("(a & b) OR c d", 3, id="leftmost-bad-term-inside-brackets"),
    # A bracketed NEAR operand NEAR does not take: at the thing inside the brackets
    pytest.param("a NEAR/2 (b OR author:x)", 15, id="near-bracketed-field"),
    pytest.param("a NEAR/2 (b c)", 10, id="near-bracketed-and"),
    pytest.param("a NEAR/2 (b NOT c)", 10, id="near-bracketed-not"),
    pytest.param("a NEAR/2 (b NEAR/1 c)", 10, id="near-bracketed-near"),
    pytest.param("(b c) NEAR/2 a", 1, id="near-bracketed-and-left"),
    # A hashtag or mention inside a term needs a letter or digit after # or @
    pytest.param("a#_", 1, id="hashtag-in-term-underscore"),
    pytest.param("x*@_", 2, id="mention-in-term-underscore"),
    # links: and site: values need a host with a letter or digit
    pytest.param("links:https://", 6, id="links-scheme-only"),
    pytest.param("links:www.", 6, id="links-www-only"),
    pytest.param("site:https://www.", 5, id="site-scheme-www-only"),
    pytest.param("links://", 6, id="links-slashes-only"),
]


@pytest.mark.parametrize("query, position", RULING_ERRORS)
def test_rulings_errors(syntax_error, query, position):
    err = syntax_error(query)
    assert err.position == position, f"{query!r}: position {err.position}, expected {position} ({err.message!r})"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("(" * 50 + "a" + ")" * 50, id="nesting-50"),
        pytest.param("privacy~", id="tilde-separator"),
        pytest.param("{ICO}~", id="tilde-after-braces"),
        pytest.param("url:x.com/~u", id="tilde-in-value"),
        pytest.param("url:(x.com/~2 OR y)", id="tilde-number-in-value-list"),
        pytest.param("www.", id="bare-www"),
        pytest.param("Autor:bob".replace("o", "ö", 1), id="non-ascii-field-name"),
        pytest.param("a NEAR/2 (b OR (c OR d))", id="near-nested-or-lists"),
        pytest.param('"a"~2', id="one-word-tilde-alone"),
    ],
)
def test_rulings_valid(query):
    from listening.query import parse

    parse(query)
