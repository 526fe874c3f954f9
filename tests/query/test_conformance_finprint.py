"""Conformance: one group per bullet of the "Fine print", then the ICO's own
saved searches against realistic posts."""

from __future__ import annotations

import pytest

from tests.query.conformance import case, run


# ---------------------------------------------------------------------------
# Fine print, bullet by bullet (matching behaviour)
# ---------------------------------------------------------------------------

FINE_PRINT = [
    # Unicode
    case("unicode-accented-term-exact", "naïve", False, text="a naive question"),
    case("unicode-unaccented-term-loose", "naive", True, text="A NAÏVE question"),
    case("unicode-full-folding-masse", "maße", True, text="MASSE"),
    case("unicode-full-folding-final-sigma", "ΟΔΟΣ", True, text="οδος"),
    case("unicode-nfd-text", "zoe", True, text="Zoe\u0308 said"),
    case("unicode-nfd-text-accented-term", "zoë", True, text="Zoe\u0308 said"),
    case("unicode-accented-term-needs-accent", "zoë", False, text="Zoe said"),
    # URLs in text
    case("urls-trailing-bang", 'url:"guide!"', False, text="Read more at https://ico.org.uk/guide!"),
    case("urls-trailing-bang-link", "links:ico.org.uk/guide", True, text="Read more at https://ico.org.uk/guide!"),
    case("urls-trailing-quote-paren", 'url:"guide)"', False, text="'see (https://ico.org.uk/guide)'"),
    case("urls-bare-domain-is-words", "links:ico.org.uk", False, text="visit ico.org.uk for more"),
    case("urls-bare-domain-words", "ico", True, text="visit ico.org.uk for more"),
    case("urls-not-after-letter", "has:links", False, text="abchttps://ico.org.uk"),
    # Mentions in text
    case("mentions-email-no-mention", "has:mentions", False, text="write to press@ico.org.uk"),
    case("mentions-email-no-mention-term", "@ico.org.uk", False, text="write to press@ico.org.uk"),
    case("mentions-after-space", "@ICOnews", True, text="ask @ICOnews"),
    # Hashtags everywhere a bare word goes
    case("hashtags-tilde", '"data protection"~1', True, text="#protection of #data"),
    case("hashtags-braces", "{GDPR}", True, text="#GDPR day"),
    case("hashtags-braces-case", "{GDPR}", False, text="#gdpr day"),
    case("hashtags-phrase", '"privacy matters"', True, text="#privacy matters"),
    case("hashtags-hashtag-term-title", "#GDPR", True, title="#gdpr fines"),
    case("hashtags-mention-term-title", "@ICOnews", True, title="cc @ICOnews"),
    case("hashtags-wildcard-in-phrase", '"privacy matt*"', True, text="#privacy #matters"),
    # Wildcards
    case("wildcards-no-underscore", "#journo*", False, text="#journo_request"),
    case("wildcards-letters", "#journo*", True, text="#journorequest"),
    case("wildcards-trailing-q-punct", "FOI?", True, text="any FOI"),
    case("wildcards-trailing-q-not-wildcard", "FOI?", False, text="FOIs"),
    # Terms: a comment separates terms as a space does
    case("comment-separates", "gdpr<<<x>>>fine", True, text="gdpr fine"),
    case("comment-separates-not-joined", "gdpr<<<x>>>fine", False, text="gdprfine"),
    # NEAR binds tightest; distinct tokens; hashtag/mention operands
    case("near-tightest", "foi OR privacy NEAR/1 gdpr", True, text="privacy x gdpr"),
    case("near-tightest-or-alone", "foi OR privacy NEAR/1 gdpr", True, text="FOI"),
    case("near-distinct-needs-two", "privacy NEAR/5 priv*", False, text="privacy"),
    case("near-distinct-two", "privacy NEAR/5 priv*", True, text="privacy and privileges"),
    case("near-hashtag-position", "#gdpr NEAR/0 fine", True, text="#gdpr fine"),
    case("near-mention-position", "@ICOnews NEAR/0 fine", True, text="fine @ICOnews"),
    case("near-mention-position-far", "@ICOnews NEAR/0 fine", False, text="fine for @ICOnews"),
    case("nearf-lowercase-f", "gdpr NEAR/0f fine", True, text="gdpr fine"),
    case("nearf-lowercase-f-order", "gdpr NEAR/0f fine", False, text="fine gdpr"),
    # ~n range
    case("tilde-0", '"gdpr fine"~0', True, text="fine gdpr"),
    # AND NOT and AND -
    case("and-not", "gdpr AND NOT fine", False, text="gdpr fine"),
    case("and-minus", "gdpr AND -fine", False, text="gdpr fine"),
    case("and-not-ok", "gdpr AND NOT fine", True, text="gdpr"),
    case("and-minus-ok", "gdpr AND -fine", True, text="gdpr"),
    # Field names case-insensitive
    case("field-name-lang-upper", "LANG:en", True, lang="en"),
    case("field-name-is-capitalised", "Is:reply", True, kind="reply"),
    case("field-name-has-capitalised", "Has:links", True, links=["https://a.example"]),
    case("field-name-links-upper", "LINKS:ico.org.uk", True, links=["https://ico.org.uk"]),
    # links: and site:
    case("links-site-subdomain-with-path", "links:ico.org.uk/about", True,
         links=["https://news.ico.org.uk/about/x"]),
    case("links-site-scheme-www-slash", "site:http://www.ico.org.uk/", True, url="https://news.ico.org.uk/a"),
    case("links-site-other-host", "site:ico.org.uk", False, url="https://bbc.co.uk/ico.org.uk"),
    # Unknown watch list
    case("unknown-list", 'list:"press office"', False, lists={"tech journalists": {"bob"}}, author_handle="bob"),
    case("known-list", 'list:"press office"', True, lists={"Press Office": {"bob"}}, author_handle="BOB"),
]


@pytest.mark.parametrize("query, post_kw, lists, expected", FINE_PRINT)
def test_fine_print_matching(check, query, post_kw, lists, expected):
    run(check, query, post_kw, lists, expected)


FINE_PRINT_ERRORS = [
    pytest.param("privacy + gdpr", id="terms-plus-no-letter"),
    pytest.param("\U0001F600", id="terms-emoji-only"),
    pytest.param("privacy -", id="terms-trailing-lone-minus"),
    pytest.param("gdpr}", id="terms-unmatched-brace"),
    pytest.param("gdpr>>>", id="terms-unmatched-comment-close"),
    pytest.param('"a b"~2 NEAR/2 c', id="tilde-not-near-operand"),
    pytest.param('"a b"~1001', id="tilde-1001"),
    pytest.param("gdpr NEAR/1F fine", id="nearf-uppercase"),
    pytest.param("privacy~3", id="tilde-after-word"),
    pytest.param("{ICO}~2", id="tilde-after-braces"),
    pytest.param("author: bob", id="field-value-not-after-colon"),
    pytest.param("is:retweet", id="is-retweet"),
    pytest.param("is:replies", id="is-bad-value"),
    pytest.param("has:hashtag", id="has-bad-value"),
    pytest.param("https://ico.org.uk/about", id="url-typed"),
]


@pytest.mark.parametrize("query", FINE_PRINT_ERRORS)
def test_fine_print_errors(syntax_error, query):
    syntax_error(query)


@pytest.mark.parametrize(
    "query",
    [
        pytest.param('"a b"~0', id="tilde-0"),
        pytest.param('"a b"~1000', id="tilde-1000"),
        pytest.param("#gdpr NEAR/2 @ICOnews", id="near-hashtag-mention"),
        pytest.param("gdpr NEAR/2f fine", id="nearf"),
        pytest.param("AUTHOR:bob", id="field-upper"),
        pytest.param("links:https://www.ico.org.uk/", id="links-scheme-ok"),
        pytest.param("is:reply OR is:repost OR is:quote", id="is-values"),
        pytest.param("has:links OR has:mentions OR has:hashtags", id="has-values"),
        pytest.param("10:30", id="colon-words"),
        pytest.param("privacy <<<a (comment) with \"quotes\" and {braces}>>>", id="comment-anything"),
    ],
)
def test_fine_print_valid(query):
    from listening.query import parse

    parse(query)


# ---------------------------------------------------------------------------
# The ICO's own saved searches
# ---------------------------------------------------------------------------

TO_COMMISSIONER = "to:commissioner"
THE_ICO = '"the ICO"'
ICO_LINKS = "links:ico.org.uk"
REGISTRATION = '"ICO registration letter" OR "data protection fee"'
JOURNOS = (
    'list:"tech journalists" (#journorequest OR journorequest OR journorequests OR '
    '"PR request" OR #PRRequest OR "DMs open" OR "get in touch" OR "data protection" '
    "OR GDPR OR FOI OR privacy)"
)
LISTS = {"Tech Journalists": {"sophiasgaler", "@AlexHern"}}

ICO_SEARCHES = [
    # to:commissioner
    case("to-commissioner-reply", TO_COMMISSIONER, True, kind="reply", in_reply_to_handle="Commissioner",
         text="@Commissioner when will you respond to my complaint?", mentions=["Commissioner"]),
    case("to-commissioner-mention-only", TO_COMMISSIONER, False,
         text="I wrote to @commissioner today", mentions=["commissioner"]),
    case("to-commissioner-own-post", TO_COMMISSIONER, False, author_handle="commissioner",
         text="Today we published our annual report"),
    case("to-commissioner-reply-to-other", TO_COMMISSIONER, False, kind="reply", in_reply_to_handle="ICOnews",
         text="@ICOnews and the commissioner?"),
    # "the ICO"
    case("the-ico-reported", THE_ICO, True, text="I've reported them to the ICO. Fingers crossed."),
    case("the-ico-possessive-caps", THE_ICO, True, text="THE ICO's new guidance on cookies is out"),
    case("the-ico-in-title", THE_ICO, True, platform="rss", kind="article",
         title="The ICO fines retailer \u00a32m", text="A retailer was fined yesterday."),
    case("the-ico-long-name", THE_ICO, False, text="The Information Commissioner's Office (ICO) has..."),
    case("the-ico-reversed", THE_ICO, False, text="ICO, the regulator, said"),
    case("the-ico-hashtag-joined", THE_ICO, False, text="#theICO trending"),
    case("the-ico-icon", THE_ICO, False, text="click the icon"),
    # links:ico.org.uk
    case("ico-links-text", ICO_LINKS, True,
         text="New guidance: https://ico.org.uk/for-organisations/uk-gdpr-guidance-and-resources/ #GDPR"),
    case("ico-links-expanded", ICO_LINKS, True, text="via https://t.co/AbC123",
         links=["https://t.co/AbC123", "https://ico.org.uk/about-the-ico/media-centre/"]),
    case("ico-links-www", ICO_LINKS, True, links=["https://www.ico.org.uk/"]),
    case("ico-links-shortened-only", ICO_LINKS, False, text="via https://t.co/AbC123",
         links=["https://t.co/AbC123"]),
    case("ico-links-bare-domain", ICO_LINKS, False, text="visit ico.org.uk for more"),
    case("ico-links-phishing", ICO_LINKS, False, links=["https://ico.org.uk.phish.example/login"]),
    # registration letter / data protection fee
    case("registration-letter", REGISTRATION, True,
         text="Got an ICO registration letter today - is it a scam?"),
    case("registration-fee-hyphen", REGISTRATION, True,
         text="Do I have to pay the data-protection fee as a sole trader?"),
    case("registration-fee-hashtags", REGISTRATION, True, text="#data #protection #fee"),
    case("registration-words-scattered", REGISTRATION, False, text="ICO letter about registration"),
    case("registration-plural-fees", REGISTRATION, False, text="data protection fees rise"),
    # tech journalists
    case("journos-journorequest", JOURNOS, True, lists=LISTS, author_handle="sophiasgaler",
         text="#journorequest looking for small business owners hit by a data breach"),
    case("journos-foi-dms-open", JOURNOS, True, lists=LISTS, author_handle="AlexHern",
         text="Anyone know a good FOI expert? DMs open"),
    case("journos-gdpr", JOURNOS, True, lists=LISTS, author_handle="sophiasgaler",
         text="Writing about GDPR fines this week"),
    case("journos-prrequest", JOURNOS, True, lists=LISTS, author_handle="sophiasgaler",
         text="#PRRequest: need a lawyer"),
    case("journos-plural-get-in-touch", JOURNOS, True, lists=LISTS, author_handle="sophiasgaler",
         text="journorequests welcome, please get in touch"),
    case("journos-pr-request-hyphen", JOURNOS, True, lists=LISTS, author_handle="sophiasgaler",
         text="Quick PR-request for a piece"),
    case("journos-not-on-list", JOURNOS, False, lists=LISTS, author_handle="randomuser",
         text="#journorequest looking for data protection experts"),
    case("journos-off-topic", JOURNOS, False, lists=LISTS, author_handle="sophiasgaler",
         text="Lovely weather in London today"),
    case("journos-dms-are-open", JOURNOS, False, lists=LISTS, author_handle="sophiasgaler",
         text="DMs are open"),
    case("journos-fois-plural", JOURNOS, False, lists=LISTS, author_handle="sophiasgaler",
         text="FOIs are great"),
    case("journos-mention-not-word", JOURNOS, False, lists=LISTS, author_handle="sophiasgaler",
         text="cc @privacy"),
    case("journos-no-lists-given", JOURNOS, False, author_handle="sophiasgaler",
         text="Writing about GDPR fines this week"),
]


@pytest.mark.parametrize("query, post_kw, lists, expected", ICO_SEARCHES)
def test_ico_saved_searches(check, query, post_kw, lists, expected):
    run(check, query, post_kw, lists, expected)
