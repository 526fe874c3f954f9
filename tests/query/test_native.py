"""Compiling to platform queries: ``parse(q).to_native(platform)``.

Exact output strings are implementation-defined, so these tests check robust
properties of the output instead:

* the set of positive atoms (words, "phrases", #tags, @handles, op:value) present;
* the set of negated atoms (``-atom`` or atoms inside ``-( ... )``);
* "never narrower": every required atom is present, no positive atom the query
  does not call for is added (an extra AND-ed term would narrow the fetch), and
  no negated atom beyond the ones the query itself negates (and the platform can
  express exactly) is added;
* constructs the platform lacks (NEAR, ~n, wildcards, comments) never appear.
"""

from __future__ import annotations

import re

import pytest

from listening.query import QueryNotSupported, parse

_TOKEN = re.compile(
    r"""
      (?P<close>\))
    | (?P<neg>-)?
      (?:
          (?P<field>[A-Za-z_]+:"[^"]*")
        | (?P<phrase>"[^"]*")
        | (?P<open>\()
        | (?P<atom>[^\s()"]+)
      )
    """,
    re.VERBOSE,
)


def _norm(atom: str) -> str:
    atom = atom.lower()
    m = re.fullmatch(r'([a-z_]+):"([^"]*)"', atom)
    if m:
        return f"{m.group(1)}:{m.group(2)}"
    if atom.startswith('"') and atom.endswith('"'):
        return '"' + " ".join(atom[1:-1].split()) + '"'
    return atom


def atoms(out: str):
    """Split a native query into (positive atoms, negated atoms, has_or)."""
    pos, neg = set(), set()
    has_or = False
    stack = [False]
    for m in _TOKEN.finditer(out):
        if m.group("close"):
            assert len(stack) > 1, f"unbalanced ')' in {out!r}"
            stack.pop()
            continue
        negated = bool(m.group("neg")) or stack[-1]
        if m.group("open"):
            stack.append(negated)
            continue
        raw = m.group("field") or m.group("phrase") or m.group("atom")
        if raw == "OR" and not m.group("neg"):
            has_or = True
            continue
        (neg if negated else pos).add(_norm(raw))
    assert len(stack) == 1, f"unbalanced '(' in {out!r}"
    return pos, neg, has_or


def _with_hashtags(words):
    """A bare word may also be sent as its hashtag (the local match covers both)."""
    extra = set()
    for w in words:
        if re.fullmatch(r"\w+", w):
            extra.add("#" + w)
            extra.add(f'"{w}"')
    return set(words) | extra


def assert_no_unsupported(out: str):
    assert "NEAR" not in out, out
    assert "*" not in out, out
    assert "~" not in out, out
    assert "<<<" not in out and ">>>" not in out, out
    assert " AND " not in out and " NOT " not in out, out


def check_x(out, required=(), optional=(), neg=(), neg_optional=(), has_or=None):
    assert isinstance(out, str) and out.strip(), out
    assert_no_unsupported(out)
    assert "?" not in out, out
    p, n, o = atoms(out)
    required, optional = set(required), set(optional)
    assert required <= p, f"missing {required - p} in {out!r}"
    allowed = _with_hashtags(required | optional)
    assert p <= allowed, f"extra positive atoms {p - allowed} (narrower) in {out!r}"
    assert set(neg) <= n, f"missing negation {set(neg) - n} in {out!r}"
    allowed_neg = set(neg) | set(neg_optional)
    assert n <= allowed_neg, f"extra negated atoms {n - allowed_neg} (narrower) in {out!r}"
    if has_or is not None:
        assert o is has_or, f"OR expected={has_or} in {out!r}"
    return p, n


# ---------------------------------------------------------------------------
# X
# ---------------------------------------------------------------------------

X_CASES = [
    # (query, required, optional, negated, has_or)
    pytest.param("privacy", {"privacy"}, set(), set(), False, id="word"),
    pytest.param("privacy gdpr", {"privacy", "gdpr"}, set(), set(), False, id="adjacency-and"),
    pytest.param("privacy AND gdpr", {"privacy", "gdpr"}, set(), set(), False, id="explicit-and"),
    pytest.param("privacy OR gdpr", {"privacy", "gdpr"}, set(), set(), True, id="or"),
    pytest.param("privacy OR gdpr OR foi", {"privacy", "gdpr", "foi"}, set(), set(), True, id="or-three"),
    pytest.param("privacy -gdpr", {"privacy"}, set(), {"gdpr"}, False, id="minus"),
    pytest.param("privacy NOT gdpr", {"privacy"}, set(), {"gdpr"}, False, id="not"),
    pytest.param("privacy AND NOT gdpr", {"privacy"}, set(), {"gdpr"}, False, id="and-not"),
    pytest.param("privacy AND -gdpr", {"privacy"}, set(), {"gdpr"}, False, id="and-minus"),
    pytest.param('privacy -"data protection"', {"privacy"}, set(), {'"data protection"'}, False,
                 id="minus-phrase"),
    pytest.param("privacy -#gdpr", {"privacy"}, set(), {"#gdpr"}, False, id="minus-hashtag"),
    pytest.param("privacy -from:bob", {"privacy"}, set(), {"from:bob"}, False, id="minus-from"),
    pytest.param("privacy -is:repost", {"privacy"}, set(), {"is:retweet"}, False, id="minus-is-repost"),
    pytest.param('"the ICO"', {'"the ico"'}, set(), set(), False, id="phrase"),
    pytest.param("#privacy", {"#privacy"}, set(), set(), False, id="hashtag"),
    pytest.param("@ICOnews", {"@iconews"}, set(), set(), False, id="mention"),
    pytest.param("mentions:ICOnews", {"@iconews"}, set(), set(), False, id="mentions-field"),
    pytest.param("from:ICOnews", {"from:iconews"}, set(), set(), False, id="from"),
    pytest.param("author:ICOnews", {"from:iconews"}, set(), set(), False, id="author-as-from"),
    pytest.param("author:(alice OR bob)", {"from:alice", "from:bob"}, set(), set(), True, id="author-or-list"),
    pytest.param("to:commissioner", {"to:commissioner"}, set(), set(), False, id="to"),
    pytest.param("url:ico.org.uk", {"url:ico.org.uk"}, set(), set(), False, id="url"),
    pytest.param("links:ico.org.uk", {"url:ico.org.uk"}, set(), set(), False, id="links-as-url"),
    pytest.param("privacy lang:en", {"privacy", "lang:en"}, set(), set(), False, id="lang"),
    pytest.param("privacy language:fr", {"privacy", "lang:fr"}, set(), set(), False, id="language"),
    pytest.param("privacy is:reply", {"privacy", "is:reply"}, set(), set(), False, id="is-reply"),
    pytest.param("privacy is:repost", {"privacy", "is:retweet"}, set(), set(), False, id="is-repost"),
    pytest.param("privacy is:quote", {"privacy", "is:quote"}, set(), set(), False, id="is-quote"),
    pytest.param("privacy has:links", {"privacy", "has:links"}, set(), set(), False, id="has-links"),
    pytest.param("privacy has:mentions", {"privacy", "has:mentions"}, set(), set(), False, id="has-mentions"),
    pytest.param("privacy has:hashtags", {"privacy", "has:hashtags"}, set(), set(), False, id="has-hashtags"),
    pytest.param("(privacy OR gdpr) ico", {"privacy", "gdpr", "ico"}, set(), set(), True, id="grouping"),
    pytest.param("GDPR?", {"gdpr"}, set(), set(), False, id="trailing-question-punct"),
    pytest.param("{ICO} fine", {"ico", "fine"}, set(), set(), False, id="braces-word"),
    pytest.param("{The ICO}", {'"the ico"'}, set(), set(), False, id="braces-phrase"),
    pytest.param("privacy <<<note to self>>>", {"privacy"}, set(), set(), False, id="comment-dropped"),
    # widening: NEAR and ~n become AND of their operands
    pytest.param("privacy NEAR/3 gdpr", {"privacy", "gdpr"}, set(), set(), False, id="near-as-and"),
    pytest.param("privacy NEAR/3f gdpr", {"privacy", "gdpr"}, set(), set(), False, id="nearf-as-and"),
    pytest.param('"privacy gdpr breach"~3', {"privacy", "gdpr", "breach"}, set(), set(), False,
                 id="tilde-as-and"),
    pytest.param('"data protection" NEAR/3 fine', {'"data protection"', "fine"}, set(), set(), False,
                 id="near-phrase-operand"),
    pytest.param("(privacy OR gdpr) NEAR/2 breach", {"privacy", "gdpr", "breach"}, set(), set(), True,
                 id="near-or-operand"),
    pytest.param("#privacy NEAR/2 @ICOnews", {"#privacy", "@iconews"}, set(), set(), False,
                 id="near-hashtag-mention"),
    # widening: a wildcard word is dropped from an AND
    pytest.param("journo* request", {"request"}, set(), set(), False, id="wildcard-dropped"),
    pytest.param("privacy NEAR/2 journo*", {"privacy"}, set(), set(), False, id="near-wildcard-dropped"),
    pytest.param("colo?r privacy", {"privacy"}, set(), set(), False, id="question-wildcard-dropped"),
    # an OR with something unexpressible is unexpressible, and so upward
    pytest.param("privacy (journo* OR request)", {"privacy"}, set(), set(), False, id="or-with-wildcard-dropped"),
    pytest.param("privacy OR (gdpr journo*)", {"privacy", "gdpr"}, set(), set(), True, id="and-in-or-widened"),
    pytest.param("privacy (gdpr OR (foi OR journo*))", {"privacy"}, set(), set(), False, id="nested-or-upward"),
    pytest.param("privacy OR (gdpr (foi OR journo*))", {"privacy", "gdpr"}, set(), set(), True,
                 id="nested-or-in-and-in-or"),
    pytest.param("(journo* OR foi) (privacy OR gdpr)", {"privacy", "gdpr"}, set(), set(), True,
                 id="one-of-two-ors-dropped"),
    # negations of widened constructs must be dropped, never widened
    pytest.param("privacy -journo*", {"privacy"}, set(), set(), False, id="negated-wildcard-dropped"),
    pytest.param("privacy -(gdpr NEAR/2 fine)", {"privacy"}, set(), set(), False, id="negated-near-dropped"),
    pytest.param('privacy -"gdpr fine"~2', {"privacy"}, set(), set(), False, id="negated-tilde-dropped"),
    pytest.param('privacy -"data protect*"', {"privacy"}, set(), set(), False, id="negated-wild-phrase-dropped"),
    pytest.param("privacy -(gdpr journo*)", {"privacy"}, set(), set(), False, id="negated-and-with-wildcard"),
    # X search is case-insensitive, so a negated case-sensitive {} term would exclude
    # posts the local match keeps: it must be dropped rather than sent as -ico.
    pytest.param("privacy -{ICO}", {"privacy"}, set(), set(), False, id="negated-braces-dropped"),
    pytest.param("privacy -{The ICO}", {"privacy"}, set(), set(), False, id="negated-braces-phrase-dropped"),
    pytest.param("privacy -#gdpr*", {"privacy"}, set(), set(), False, id="negated-hashtag-wildcard-dropped"),
    pytest.param("privacy OR {ICO}", {"privacy", "ico"}, set(), set(), True, id="braces-in-or-widened"),
]


@pytest.mark.parametrize("query, required, optional, negated, has_or", X_CASES)
def test_x(query, required, optional, negated, has_or):
    out = parse(query).to_native("x")
    check_x(out, required, optional, negated, has_or=has_or)


def test_x_negated_or_with_wildcard_keeps_only_sound_negations():
    out = parse("privacy -(gdpr OR journo*)").to_native("x")
    check_x(out, {"privacy"}, neg_optional={"gdpr"})
    assert "journo" not in out.lower()


def test_x_negated_or_with_braces_keeps_only_sound_negations():
    out = parse("privacy -(gdpr OR {ICO})").to_native("x")
    check_x(out, {"privacy"}, neg_optional={"gdpr"})
    assert "ico" not in out.lower()


def test_x_watch_list_resolved_to_list_id():
    out = parse('list:"tech journalists" privacy').to_native(
        "x", x_list_ids={"tech journalists": "123"}
    )
    check_x(out, {"list:123", "privacy"}, has_or=False)


def test_x_watch_list_without_id_is_widened_away():
    out = parse('list:"tech journalists" privacy').to_native("x", x_list_ids={})
    check_x(out, {"privacy"}, has_or=False)
    assert "list:" not in out


def test_x_watch_list_other_list_id_not_used():
    out = parse('list:"tech journalists" privacy').to_native("x", x_list_ids={"press": "999"})
    check_x(out, {"privacy"}, has_or=False)
    assert "999" not in out


def test_x_platform_field_not_sent():
    out = parse("platform:x privacy").to_native("x")
    check_x(out, {"privacy"})
    assert "platform:" not in out


def test_x_wildcard_phrase_is_never_narrowed():
    try:
        out = parse('"data protect*"').to_native("x")
    except QueryNotSupported:
        return
    check_x(out, set(), {"data"})


def test_x_separated_word_is_a_phrase_or_wider():
    out = parse("e-mail").to_native("x")
    p, n = check_x(out, set(), {'"e mail"', '"e-mail"', "e-mail", "e", "mail"})
    assert p


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("journo*", id="wildcard-only"),
        pytest.param("journo* OR request", id="or-with-wildcard"),
        pytest.param("(journo* OR foi) OR privacy", id="nested-or-with-wildcard"),
        pytest.param("journo* -privacy", id="only-negative-left"),
        pytest.param("journo* NEAR/2 reque*", id="near-of-wildcards"),
        pytest.param('list:"tech journalists"', id="list-without-id-only"),
    ],
)
def test_x_nothing_positive_left_raises(query):
    with pytest.raises(QueryNotSupported) as info:
        parse(query).to_native("x", x_list_ids={})
    assert isinstance(info.value.reason, str) and info.value.reason.strip()


def _long_or(n):
    return " OR ".join(f"keyword{i:03d}" for i in range(n))


def test_x_over_512_raises():
    query = _long_or(60)  # ~840 characters as X syntax
    with pytest.raises(QueryNotSupported) as info:
        parse(query).to_native("x")
    assert isinstance(info.value.reason, str) and info.value.reason.strip()


def test_x_under_512_ok():
    out = parse(_long_or(20)).to_native("x")
    assert len(out) <= 512
    check_x(out, {f"keyword{i:03d}" for i in range(20)}, has_or=True)


def test_x_limit_configurable_higher():
    out = parse(_long_or(60)).to_native("x", x_max_length=2000)
    assert 512 < len(out) <= 2000
    check_x(out, {f"keyword{i:03d}" for i in range(60)}, has_or=True)


def test_x_configured_limit_is_inclusive():
    out = parse(_long_or(60)).to_native("x", x_max_length=5000)
    assert parse(_long_or(60)).to_native("x", x_max_length=len(out)) == out
    with pytest.raises(QueryNotSupported):
        parse(_long_or(60)).to_native("x", x_max_length=len(out) - 1)


# The ICO's own saved searches on X
JOURNOS = (
    'list:"tech journalists" (#journorequest OR journorequest OR journorequests OR '
    '"PR request" OR #PRRequest OR "DMs open" OR "get in touch" OR "data protection" '
    "OR GDPR OR FOI OR privacy)"
)
JOURNO_TERMS = {
    "#journorequest", "journorequest", "journorequests", '"pr request"', "#prrequest",
    '"dms open"', '"get in touch"', '"data protection"', "gdpr", "foi", "privacy",
}


@pytest.mark.parametrize(
    "query, required, has_or",
    [
        pytest.param("to:commissioner", {"to:commissioner"}, False, id="to-commissioner"),
        pytest.param('"the ICO"', {'"the ico"'}, False, id="the-ico"),
        pytest.param("links:ico.org.uk", {"url:ico.org.uk"}, False, id="ico-links"),
        pytest.param('"ICO registration letter" OR "data protection fee"',
                     {'"ico registration letter"', '"data protection fee"'}, True, id="registration"),
        pytest.param(JOURNOS, JOURNO_TERMS | {"list:123"}, True, id="journos-with-list-id"),
    ],
)
def test_x_ico_saved_searches(query, required, has_or):
    out = parse(query).to_native("x", x_list_ids={"tech journalists": "123"})
    assert len(out) <= 512
    check_x(out, required, has_or=has_or)


def test_x_ico_journos_without_list_id_widens_to_topic():
    out = parse(JOURNOS).to_native("x", x_list_ids={})
    check_x(out, JOURNO_TERMS, has_or=True)
    assert "list:" not in out


# ---------------------------------------------------------------------------
# Bluesky
# ---------------------------------------------------------------------------

def check_generic(out, required_words=(), forbidden=(), negs_allowed=()):
    assert isinstance(out, str) and out.strip(), out
    assert_no_unsupported(out)
    low = out.lower()
    for w in required_words:
        assert w in low, f"{w!r} missing from {out!r}"
    for w in forbidden:
        assert w not in low, f"{w!r} must not appear in {out!r}"
    _, n, _ = atoms(out)
    assert n <= set(negs_allowed), f"extra negations {n - set(negs_allowed)} in {out!r}"


BLUESKY_CASES = [
    pytest.param("privacy", ["privacy"], [], [], id="word"),
    pytest.param("privacy gdpr", ["privacy", "gdpr"], [" or "], [], id="and"),
    pytest.param('"the ICO"', ['"the ico"'], [], [], id="phrase"),
    pytest.param("privacy -gdpr", ["privacy", "-gdpr"], [], ["gdpr"], id="minus"),
    pytest.param("privacy NOT gdpr", ["privacy", "-gdpr"], [], ["gdpr"], id="not"),
    pytest.param("privacy NEAR/3 gdpr", ["privacy", "gdpr"], [" or "], [], id="near-as-and"),
    pytest.param('"privacy gdpr"~3', ["privacy", "gdpr"], ['"privacy gdpr"'], [], id="tilde-as-and"),
    pytest.param("journo* request", ["request"], ["journo"], [], id="wildcard-dropped"),
    pytest.param("ico (privacy OR gdpr)", ["ico"], ["privacy", "gdpr", " or "], [], id="or-dropped-from-and"),
    pytest.param("from:ICOnews privacy", ["iconews", "privacy"], [], [], id="author"),
    pytest.param("#privacy", ["privacy"], [], [], id="tag"),
    pytest.param("privacy -journo*", ["privacy"], ["journo"], [], id="negated-wildcard-dropped"),
    pytest.param("privacy -(gdpr NEAR/2 fine)", ["privacy"], ["gdpr", "fine"], [], id="negated-near-dropped"),
    pytest.param("privacy <<<note>>>", ["privacy"], ["note"], [], id="comment-dropped"),
]


@pytest.mark.parametrize("query, required, forbidden, negs", BLUESKY_CASES)
def test_bluesky(query, required, forbidden, negs):
    out = parse(query).to_native("bluesky")
    check_generic(out, required, forbidden, negs)


def test_bluesky_lang():
    out = parse("privacy lang:en").to_native("bluesky")
    check_generic(out, ["privacy"])
    assert re.search(r"lang\W*en\b", out.lower()), out


def test_bluesky_domain():
    out = parse("privacy links:ico.org.uk").to_native("bluesky")
    check_generic(out, ["privacy", "ico.org.uk"])


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("journo*", id="wildcard-only"),
        pytest.param("privacy OR gdpr", id="or-not-expressible"),
        pytest.param("journo* -privacy", id="only-negative-left"),
    ],
)
def test_bluesky_nothing_positive_left_raises(query):
    with pytest.raises(QueryNotSupported) as info:
        parse(query).to_native("bluesky")
    assert isinstance(info.value.reason, str) and info.value.reason.strip()


# ---------------------------------------------------------------------------
# Mastodon
# ---------------------------------------------------------------------------

MASTODON_CASES = [
    pytest.param("privacy", ["privacy"], [], [], id="word"),
    pytest.param("privacy gdpr", ["privacy", "gdpr"], [], [], id="and"),
    pytest.param('"the ICO"', ["the", "ico"], [], [], id="phrase"),
    pytest.param("privacy NEAR/3 gdpr", ["privacy", "gdpr"], [], [], id="near-as-and"),
    pytest.param("journo* request", ["request"], ["journo"], [], id="wildcard-dropped"),
    pytest.param("privacy -journo*", ["privacy"], ["journo"], [], id="negated-wildcard-dropped"),
    pytest.param("privacy -(gdpr NEAR/2 fine)", ["privacy"], ["gdpr", "fine"], [], id="negated-near-dropped"),
    pytest.param("privacy <<<note>>>", ["privacy"], ["note"], [], id="comment-dropped"),
]


@pytest.mark.parametrize("query, required, forbidden, negs", MASTODON_CASES)
def test_mastodon(query, required, forbidden, negs):
    out = parse(query).to_native("mastodon")
    check_generic(out, required, forbidden, negs)


@pytest.mark.parametrize(
    "query",
    [pytest.param("journo*", id="wildcard-only"), pytest.param("journo* -privacy", id="only-negative-left")],
)
def test_mastodon_nothing_positive_left_raises(query):
    with pytest.raises(QueryNotSupported) as info:
        parse(query).to_native("mastodon")
    assert isinstance(info.value.reason, str) and info.value.reason.strip()


def test_query_not_supported_is_an_exception():
    assert issubclass(QueryNotSupported, Exception)
