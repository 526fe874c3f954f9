"""Conformance: "How text is read", the Terms table, and the term-level fine print.

Each case is (query, post fields, expected result of ``matches``).
"""

from __future__ import annotations

import pytest

from tests.query.conformance import case, run


# ---------------------------------------------------------------------------
# How text is read
# ---------------------------------------------------------------------------

TEXT_AND_TITLE = [
    case("word-in-text", "privacy", True, text="Our privacy notice"),
    case("word-in-title", "privacy", True, title="Privacy notice updated"),
    case("word-absent-from-both", "privacy", False, title="Notice", text="Updated today"),
    case("phrase-in-title", '"privacy notice"', True, title="New privacy notice"),
    case("phrase-never-spans-title-into-text", '"privacy notice"', False,
         title="All about privacy", text="notice period"),
    case("phrase-never-spans-text-into-title", '"privacy notice"', False,
         title="notice", text="a word on privacy"),
    case("and-across-title-and-text", "privacy notice", True,
         title="All about privacy", text="notice period"),
]

URLS = [
    case("url-not-a-word-host", "ico", False, text="see https://ico.org.uk/about"),
    case("url-not-a-word-path", "about", False, text="see https://ico.org.uk/about"),
    case("url-http-not-a-word", "example", False, text="see http://example.com/page"),
    case("url-www-not-a-word", "ico", False, text="visit www.ico.org.uk today"),
    case("url-words-around-still-words", "today", True, text="visit www.ico.org.uk today"),
    case("url-added-to-links", "links:ico.org.uk", True, text="see https://ico.org.uk/about"),
    case("url-www-added-to-links", "links:ico.org.uk", True, text="visit www.ico.org.uk today"),
    case("url-http-added-to-links", "links:example.com", True, text="see http://example.com/page"),
    case("url-in-text-counts-for-url-op", "url:ico.org.uk/about", True,
         text="see https://ico.org.uk/about"),
    case("url-in-text-counts-for-has-links", "has:links", True, text="see https://ico.org.uk/about"),
    case("no-url-no-links", "has:links", False, text="see the ICO website"),
    case("url-in-title-added-to-links", "links:example.com", True,
         title="Read this https://example.com/x"),
    case("url-in-title-not-a-word", "example", False, title="Read this https://example.com/x"),
    case("url-at-start-of-text", "links:ico.org.uk", True, text="https://ico.org.uk is great"),
    case("url-at-start-rest-are-words", "great", True, text="https://ico.org.uk is great"),
    case("url-ends-at-whitespace-newline", "next", True, text="https://ico.org.uk/a\nnext line"),
    case("url-removed-so-neighbours-adjacent", "privacy NEAR/0 gdpr", True,
         text="privacy https://example.com/x gdpr"),
]

HASHTAGS = [
    case("hashtag-underscore-one-token", "#data_protection", True, text="#data_protection matters"),
    case("hashtag-underscore-not-word-data", "data", False, text="#data_protection matters"),
    case("hashtag-underscore-not-word-protection", "protection", False, text="#data_protection"),
    case("hashtag-underscore-not-phrase", "data_protection", False, text="#data_protection"),
    case("hashtag-digits-in-token", "#gdpr2024", True, text="Ready for #GDPR2024?"),
    case("hashtag-longer-token-no-match", "#privacy", False, text="#privacy2024 is here"),
    case("hashtag-word-longer-token-no-match", "privacy", False, text="#privacy2024 is here"),
    case("hashtag-case-insensitive", "#privacy", True, text="#PRIVACY day"),
]

MENTIONS = [
    case("mention-with-dots", "@jane.bsky.social", True, text="hi @jane.bsky.social how are you"),
    case("mention-trailing-dot-dropped", "@jane.bsky.social", True, text="thanks @jane.bsky.social."),
    case("mention-trailing-dots-dropped", "@jane.bsky.social", True, text="thanks @jane.bsky.social..."),
    case("mention-trailing-dot-counts-as-mention", "mentions:jane.bsky.social", True,
         text="thanks @jane.bsky.social."),
    case("mention-dotted-is-one-token", "@jane", False, text="hi @jane.bsky.social"),
    case("mention-underscore-is-one-token", "@ICOnews", False, text="hi @ICOnews_team"),
    case("mention-case-insensitive", "@ICOnews", True, text="thanks @iconews!"),
    case("mention-token-counts-for-has-mentions", "has:mentions", True, text="cc @ICOnews"),
    case("mention-token-counts-for-mentions-op", "mentions:iconews", True, text="cc @ICOnews"),
    case("mention-not-a-word", "jane", False, text="hi @jane"),
]

WORDS = [
    case("apostrophe-splits-ico", "ico", True, text="The ICO's view"),
    case("apostrophe-splits-s", "s", True, text="The ICO's view"),
    case("apostrophe-no-joined-word", "icos", False, text="The ICO's view"),
    case("curly-apostrophe-splits", "ico", True, text="The ICO\u2019s view"),
    case("hyphen-splits-first", "data", True, text="data-protection rules"),
    case("hyphen-splits-second", "protection", True, text="data-protection rules"),
    case("hyphen-no-joined-word", "dataprotection", False, text="data-protection rules"),
    case("colon-splits-10", "10", True, text="meet at 10:30"),
    case("colon-splits-30", "30", True, text="meet at 10:30"),
    case("colon-no-joined-word", "1030", False, text="meet at 10:30"),
    case("underscore-outside-hashtag-separates", "data", True, text="data_protection"),
    case("emoji-separates", "privacy", True, text="privacy\U0001F512matters"),
    case("emoji-separated-words-consecutive", '"privacy matters"', True, text="privacy\U0001F512matters"),
    case("letters-and-digits-one-run", "2024", False, text="GDPR2024"),
    case("letters-and-digits-one-run-letters", "gdpr", False, text="GDPR2024"),
    case("word-not-substring", "privacy", False, text="privacypolicy"),
    case("word-not-prefix", "priv", False, text="privacy"),
]

CASE_AND_ACCENTS = [
    case("upper-term-lower-text", "PRIVACY", True, text="privacy"),
    case("lower-term-upper-text", "privacy", True, text="PRIVACY"),
    case("full-folding-strasse-term", "STRASSE", True, text="straße"),
    case("full-folding-sharp-s-term", "straße", True, text="STRASSE"),
    case("full-folding-plain-term", "strasse", True, text="Straße"),
    case("unaccented-term-matches-accented", "cafe", True, text="Café"),
    case("unaccented-term-matches-unaccented", "cafe", True, text="cafe"),
    case("accented-term-not-unaccented", "café", False, text="cafe"),
    case("accented-term-matches-accented", "café", True, text="Café"),
    case("accented-term-case-folds", "CAFÉ", True, text="café"),
    case("resume-unaccented-matches-accented", "resume", True, text="my résumé"),
    case("resume-partly-accented-no-match", "resumé", False, text="my résumé"),
    case("resume-fully-accented-match", "résumé", True, text="my résumé"),
]

UNICODE = [
    case("nfc-decomposed-query-precomposed-text", "cafe\u0301", True, text="caf\u00e9"),
    case("nfc-precomposed-query-decomposed-text", "caf\u00e9", True, text="cafe\u0301"),
    case("nfc-decomposed-query-still-accented", "cafe\u0301", False, text="cafe"),
    case("unaccented-term-decomposed-text", "cafe", True, text="cafe\u0301"),
    case("combining-mark-stays-in-word-no-split", "o", False, text="alg\u0303o"),
    case("combining-mark-stays-in-word-stripped-match", "algo", True, text="alg\u0303o"),
    case("combining-mark-word-exact", "alg\u0303o", True, text="ALG\u0303O"),
    case("cjk-letters-one-run", "\u500b\u4eba\u60c5\u5831", True, text="\u500b\u4eba\u60c5\u5831 \u6f0f\u6d29"),
    case("cjk-letters-run-no-substring", "\u500b\u4eba\u60c5\u5831", False, text="\u500b\u4eba\u60c5\u5831\u4fdd\u8b77"),
    case("nd-digit-joins-word", "gdpr", False, text="gdpr\u0662"),
    case("nd-digit-word-exact", "gdpr\u0662", True, text="GDPR\u0662"),
]

# ---------------------------------------------------------------------------
# Terms table
# ---------------------------------------------------------------------------

TERM_WORD = [
    case("word-matches-word", "privacy", True, text="Respect my privacy"),
    case("word-matches-hashtag", "privacy", True, text="#privacy day"),
    case("word-never-mention-text", "privacy", False, text="@privacy hello"),
    case("word-never-mentions-field", "privacy", False, text="hello", mentions=["privacy"]),
    case("word-not-author", "privacy", False, text="hello", author_handle="privacy"),
]

TERM_HASHTAG = [
    case("hashtag-matches-hashtag", "#privacy", True, text="#privacy day"),
    case("hashtag-not-word", "#privacy", False, text="privacy day"),
    case("hashtag-not-mention", "#privacy", False, text="@privacy day"),
    case("hashtag-in-title", "#privacy", True, title="#privacy day"),
]

TERM_MENTION = [
    case("mention-in-text", "@ICOnews", True, text="Thanks @ICOnews"),
    case("mention-in-mentions-field", "@ICOnews", True, text="Thanks", mentions=["ICOnews"]),
    case("mention-in-mentions-field-case", "@ICOnews", True, text="", mentions=["iconews"]),
    case("mention-in-mentions-field-at-ignored", "@ICOnews", True, text="", mentions=["@ICOnews"]),
    case("mention-in-title", "@ICOnews", True, title="Letter to @ICOnews"),
    case("mention-not-word", "@ICOnews", False, text="ICOnews said"),
    case("mention-not-hashtag", "@ICOnews", False, text="#ICOnews said"),
    case("mention-not-author", "@ICOnews", False, text="hello", author_handle="ICOnews"),
    case("mention-dotted-in-field", "@jane.bsky.social", True, mentions=["jane.bsky.social"]),
]

TERM_PHRASE = [
    case("phrase-consecutive", '"the ICO"', True, text="The ICO said"),
    case("phrase-gap-no-match", '"the ICO"', False, text="the new ICO"),
    case("phrase-order-matters", '"the ICO"', False, text="ICO the"),
    case("phrase-across-hyphen", '"the ICO"', True, text="the-ICO"),
    case("phrase-across-newline", '"the ICO"', True, text="the\nICO"),
    case("phrase-with-apostrophe", '"ICO\'s fine"', True, text="The ICO's fine"),
    case("phrase-with-apostrophe-needs-s", '"ICO\'s fine"', False, text="The ICO fine"),
]

TERM_SEPARATED_WORD = [
    case("e-mail-matches-e-mail", "e-mail", True, text="send an e-mail"),
    case("e-mail-matches-e-space-mail", "e-mail", True, text="send an e mail"),
    case("e-mail-matches-e-dot-mail", "e-mail", True, text="send an e.mail"),
    case("e-mail-not-email", "e-mail", False, text="send an email"),
    case("e-mail-not-reordered", "e-mail", False, text="mail e"),
    case("icos-apostrophe-phrase", "ico's", True, text="ICO s guidance"),
    case("icos-apostrophe-not-ico-alone", "ico's", False, text="ICO guidance"),
    case("gov-uk-phrase", "gov.uk", True, text="visit gov.uk today"),
    case("gov-uk-space", "gov.uk", True, text="gov uk"),
    case("gov-uk-not-joined", "gov.uk", False, text="govuk"),
    case("gov-uk-url-not-words", "gov.uk", False, text="see https://gov.uk"),
    case("time-with-colon-is-words", "10:30", True, text="meeting at 10:30"),
    case("time-with-colon-is-phrase", "10:30", True, text="10 30"),
    case("time-with-colon-not-joined", "10:30", False, text="1030"),
]

TERM_WILDCARD = [
    case("star-zero-letters", "journo*", True, text="a journo"),
    case("star-some-letters", "journo*", True, text="journos wanted"),
    case("star-long-suffix", "journo*", True, text="journorequest"),
    case("star-matches-hashtag", "journo*", True, text="#journorequest"),
    case("star-never-mention", "journo*", False, text="@journorequest"),
    case("star-needs-prefix", "journo*", False, text="journalist"),
    case("star-needs-full-prefix", "journo*", False, text="journ"),
    case("star-token-before-apostrophe", "journo*", True, text="journo's"),
    case("star-middle-zero", "j*o", True, text="jo"),
    case("star-middle-many", "j*o", True, text="journo"),
    case("star-middle-must-end", "j*o", False, text="journos"),
    case("question-exactly-one", "colo?r", True, text="colour"),
    case("question-not-zero", "colo?r", False, text="color"),
    case("question-not-two", "colo?r", False, text="colouur"),
    case("question-middle-s", "organi?ation", True, text="organisation"),
    case("question-middle-z", "organi?ation", True, text="organization"),
    case("question-letter-accented", "na?ve", True, text="Naïve"),
    case("question-letter-accented-mid", "caf?s", True, text="Cafés"),
    case("wildcard-in-phrase", '"data protect*"', True, text="data protection officer"),
    case("wildcard-in-phrase-needs-both", '"data protect*"', False, text="data officer"),
    case("wildcard-in-phrase-consecutive", '"data protect*"', False, text="data and protection"),
]

TERM_BRACES = [
    case("braces-exact-case", "{ICO}", True, text="Complain to the ICO"),
    case("braces-lower-no-match", "{ICO}", False, text="complain to the ico"),
    case("braces-mixed-no-match", "{ICO}", False, text="Ico"),
    case("braces-token-before-apostrophe", "{ICO}", True, text="ICO's view"),
    case("braces-lower-term-upper-text", "{ico}", False, text="ICO"),
    case("braces-never-mention", "{ICO}", False, text="@ICO"),
    case("braces-phrase-exact", "{The ICO}", True, text="The ICO said"),
    case("braces-phrase-case", "{The ICO}", False, text="the ICO said"),
    case("braces-phrase-consecutive", "{The ICO}", False, text="The new ICO"),
    case("braces-no-accent-folding-unaccented", "{Cafe}", False, text="Café"),
    case("braces-no-accent-folding-accented", "{Café}", False, text="Cafe"),
    case("braces-accented-exact", "{Café}", True, text="Café"),
    case("braces-nfc-still-applies", "{Cafe\u0301}", True, text="Caf\u00e9"),
    case("braces-no-case-folding-sharp-s", "{Straße}", False, text="STRASSE"),
]

TERM_COMMENT = [
    case("comment-ignored-after", "privacy <<<note to self>>>", True, text="privacy"),
    case("comment-content-not-required", "privacy <<<GDPR>>>", True, text="privacy"),
    case("comment-ignored-before", "<<<note>>> privacy", True, text="privacy"),
    case("comment-ignored-only-real-terms", "privacy <<<note>>>", False, text="note"),
    case("comment-separates-terms-both", "privacy<<<c>>>policy", True, text="privacy policy"),
    case("comment-separates-terms-not-joined", "privacy<<<c>>>policy", False, text="privacypolicy"),
    case("comment-separates-terms-needs-both", "privacy<<<c>>>policy", False, text="privacy"),
    case("comment-inside-brackets", "(privacy <<<c>>> OR gdpr)", True, text="gdpr"),
    case("comment-between-operator-and-operand", "privacy OR <<<c>>> gdpr", True, text="gdpr"),
    case("comment-chars-inside-quotes-are-text", '"privacy <<<x>>> matters"', True, text="privacy x matters"),
    case("comment-chars-inside-quotes-not-comment", '"privacy <<<x>>> matters"', False, text="privacy matters"),
]

# ---------------------------------------------------------------------------
# Fine print about terms
# ---------------------------------------------------------------------------

HASHTAGS_EVERYWHERE = [
    case("phrase-first-word-hashtag", '"privacy matters"', True, text="#privacy matters"),
    case("phrase-all-words-hashtags", '"privacy matters"', True, text="#privacy #matters"),
    case("phrase-hashtag-still-consecutive", '"privacy matters"', False, text="#privacy really matters"),
    case("tilde-phrase-hashtags", '"privacy matters"~2', True, text="#matters and #privacy"),
    case("braces-matches-hashtag", "{ICO}", True, text="#ICO"),
    case("braces-hashtag-case-sensitive", "{ICO}", False, text="#ico"),
    case("braces-phrase-hashtags", "{The ICO}", True, text="#The #ICO"),
    case("word-not-hashtag-with-underscore", "privacy", False, text="#privacy_matters"),
    case("hashtag-term-searches-title", "#ICO", True, title="Hello #ICO", text="nothing"),
    case("mention-term-searches-title", "@ICOnews", True, title="Hello @ICOnews", text="nothing"),
]

WILDCARD_FINE_PRINT = [
    case("hashtag-wildcard-no-underscore", "#data*", False, text="#data_protection"),
    case("hashtag-wildcard-letters", "#data*", True, text="#dataprotection"),
    case("hashtag-wildcard-zero", "#data*", True, text="#data"),
    case("hashtag-wildcard-digits", "#data*", True, text="#data2024"),
    case("hashtag-wildcard-not-word", "#data*", False, text="dataprotection"),
    case("word-wildcard-underscore-separates", "data*", True, text="data_protection"),
    case("trailing-question-is-punctuation", "GDPR?", True, text="GDPR"),
    case("trailing-question-not-wildcard", "GDPR?", False, text="GDPRs"),
    case("trailing-questions-are-punctuation", "GDPR??", True, text="gdpr rules"),
    case("trailing-questions-not-wildcards", "GDPR??", False, text="GDPRxx"),
    case("trailing-question-not-wildcard-caf", "caf?", False, text="cafe"),
    case("trailing-question-means-caf", "caf?", True, text="caf"),
]

DISTINCT_TOKENS = [
    case("near-same-token-not-twice", "data NEAR/3 data*", False, text="data"),
    case("near-two-tokens", "data NEAR/3 data*", True, text="data is big data"),
    case("near-two-tokens-wildcard", "data NEAR/3 data*", True, text="data database"),
    case("near-identical-words-need-two", "privacy NEAR/0 privacy", False, text="privacy"),
    case("near-identical-words-two", "privacy NEAR/0 privacy", True, text="privacy privacy"),
    case("near-phrase-overlap-not-distinct", '"data protection" NEAR/2 protection', False,
         text="data protection"),
    case("tilde-same-word-needs-two", '"privacy privacy"~0', False, text="privacy"),
    case("tilde-same-word-two", '"privacy privacy"~0', True, text="privacy privacy"),
    case("tilde-wildcard-distinct", '"data data*"~3', False, text="database"),
    case("tilde-wildcard-distinct-two", '"data data*"~3', True, text="data database"),
]

MORE_TERMS = [
    case("braces-wildcard", "{IC*}", True, text="ICO"),
    case("braces-wildcard-case", "{IC*}", False, text="ico"),
    case("hashtag-unaccented-term-accented-tag", "#cafe", True, text="#café"),
    case("hashtag-accented-term-unaccented-tag", "#café", False, text="#cafe"),
    case("hashtag-before-full-stop", "#privacy", True, text="#privacy."),
    case("word-before-full-stop", "privacy", True, text="privacy."),
    case("mention-before-full-stop", "@ICOnews", True, text="hi @ICOnews."),
    case("mention-not-after-letter", "@ICOnews", False, text="email@ICOnews"),
    case("mention-before-bang", "@jane.bsky.social", True, text="@jane.bsky.social!"),
    case("word-matches-hashtag-in-title", "privacy", True, title="#privacy"),
    case("url-after-underscore", "links:x.com", True, text="_https://x.com/a"),
    case("hash-without-word-chars-no-hashtag", "has:hashtags", False, text="C# rocks"),
    case("phrase-across-removed-url", '"the ICO"', True, text="the https://x.com/a ICO"),
    case("phrase-curly-apostrophe", '"ICO\'s"', True, text="ICO\u2019s"),
    case("empty-post-no-match", "privacy", False),
    case("braces-in-title", "{ICO}", True, title="ICO"),
]


ALL = (
    TEXT_AND_TITLE + URLS + HASHTAGS + MENTIONS + WORDS + CASE_AND_ACCENTS + UNICODE
    + TERM_WORD + TERM_HASHTAG + TERM_MENTION + TERM_PHRASE + TERM_SEPARATED_WORD
    + TERM_WILDCARD + TERM_BRACES + TERM_COMMENT + HASHTAGS_EVERYWHERE
    + WILDCARD_FINE_PRINT + DISTINCT_TOKENS + MORE_TERMS
)


@pytest.mark.parametrize("query, post_kw, lists, expected", ALL)
def test_term_matching(check, query, post_kw, lists, expected):
    run(check, query, post_kw, lists, expected)


# URL trailing punctuation: `. , ; : ! ? ' " ) ] }` are not part of a URL.
# If the character were kept, `url:"a<char>"` would find it in the link.
@pytest.mark.parametrize(
    "char", [".", ",", ";", ":", "!", "'", ")", "]"],
    ids=["dot", "comma", "semicolon", "colon", "bang", "apostrophe", "paren", "bracket"],
)
def test_url_trailing_punctuation_not_part_of_url(check, char):
    text = f"see https://ico.org.uk/guide{char} now"
    assert check('url:"ico.org.uk/guide"', {"text": text}) is True
    assert check(f'url:"guide{char}"', {"text": text}) is False


@pytest.mark.parametrize(
    "text, query, expected",
    [
        pytest.param("(see https://ico.org.uk).", "links:ico.org.uk", True, id="paren-dot-links"),
        pytest.param("(see https://ico.org.uk).", 'url:"uk)"', False, id="paren-dot-no-paren"),
        pytest.param("(see https://ico.org.uk).", 'url:"uk."', False, id="paren-dot-no-dot"),
        pytest.param("(https://ico.org.uk)", "links:ico.org.uk", True, id="start-after-paren"),
        pytest.param("source:https://ico.org.uk", "links:ico.org.uk", True, id="start-after-colon"),
        pytest.param("xhttps://ico.org.uk", "links:ico.org.uk", False, id="no-start-after-letter"),
        pytest.param("xhttps://ico.org.uk", "ico", True, id="no-start-after-letter-words"),
        pytest.param("2www.example.com", "links:example.com", False, id="no-www-start-after-digit"),
        pytest.param("2www.example.com", "example", True, id="no-www-start-after-digit-words"),
        pytest.param("(see https://ico.org.uk).", "see", True, id="paren-dot-word-before"),
    ],
)
def test_url_boundaries(check, text, query, expected):
    assert check(query, {"text": text}) is expected


@pytest.mark.parametrize(
    "text, query, expected",
    [
        pytest.param("jane@example.com", "has:mentions", False, id="email-no-has-mentions"),
        pytest.param("jane@example.com", "@example.com", False, id="email-no-mention-term"),
        pytest.param("jane@example.com", "mentions:example.com", False, id="email-no-mentions-op"),
        pytest.param("jane@example.com", "example", True, id="email-words"),
        pytest.param("a_@bob hi", "@bob", False, id="no-mention-after-underscore"),
        pytest.param("a1@bob hi", "@bob", False, id="no-mention-after-digit"),
        pytest.param("(@bob) hi", "@bob", True, id="mention-after-paren"),
        pytest.param("hi,@bob", "@bob", True, id="mention-after-comma"),
        pytest.param("@bob hi", "@bob", True, id="mention-at-start"),
    ],
)
def test_mention_boundaries(check, text, query, expected):
    assert check(query, {"text": text}) is expected
