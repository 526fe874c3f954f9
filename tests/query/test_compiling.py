"""Compiling queries into X, Bluesky and Mastodon search syntax."""

import pytest

from listening.query import QueryNotSupported, parse

ICO_LIST_QUERY = (
    'list:"tech journalists" (#journorequest OR journorequest OR journorequests OR "PR request" OR #PRRequest '
    'OR "DMs open" OR "get in touch" OR "data protection" OR GDPR OR FOI OR privacy)'
)


def x(query, **options):
    return parse(query).to_native("x", **options)


def not_supported(query, platform, **options):
    with pytest.raises(QueryNotSupported) as info:
        parse(query).to_native(platform, **options)
    assert info.value.reason.strip()
    return info.value.reason


@pytest.mark.parametrize(
    "query, native",
    [
        ("to:commissioner", "to:commissioner"),
        ('"the ICO"', '"the ICO"'),
        ("links:ico.org.uk", "url:ico.org.uk"),
        ('"ICO registration letter" OR "data protection fee"', '"ICO registration letter" OR "data protection fee"'),
        ("privacy gdpr", "privacy gdpr"),
        ("privacy NOT spam", "privacy -spam"),
        ("privacy AND -(spam OR scam)", "privacy -(spam OR scam)"),
        ("(privacy OR gdpr) ico", "(privacy OR gdpr) ico"),
        ("(privacy gdpr) OR ico", "(privacy gdpr) OR ico"),
        ("#GDPR @ICOnews", "#GDPR @ICOnews"),
        ("e-mail", '"e mail"'),
        ("from:@ICOnews lang:en", "from:ICOnews lang:en"),
        ("author:(alice OR bob) privacy", "(from:alice OR from:bob) privacy"),
        ("mentions:ICOnews", "@ICOnews"),
        ("privacy is:reply", "privacy is:reply"),
        ("privacy is:repost", "privacy is:retweet"),
        ("privacy -is:repost is:quote", "privacy is:quote -is:retweet"),
        ("privacy has:links has:mentions has:hashtags", "privacy has:links has:mentions has:hashtags"),
        ("url:ico.org.uk/about", "url:ico.org.uk/about"),
        ("links:www.ico.org.uk/about/", "url:ico.org.uk/about"),
        ('"OR"', '"OR"'),
    ],
)
def test_it_compiles_to_x_search_syntax(query, native):
    assert x(query) == native


def test_near_and_proximity_widen_to_and():
    assert x("data NEAR/3 breach") == "data breach"
    assert x('"data breach fine"~4') == "data breach fine"


def test_a_wildcard_word_is_dropped_from_an_and():
    assert x("journo* request") == "request"
    assert x('"data protect* officer"') == "data officer"


def test_an_or_with_an_unexpressible_member_is_unexpressible_as_a_whole():
    assert x("(journo* OR press) request") == "request"
    assert x("ico (privacy OR site:bbc.co.uk)") == "ico"


def test_an_exclusion_of_something_widened_is_dropped_not_kept():
    # Excluding "data breach" anywhere would exclude more than the NEAR does.
    assert x("privacy -(data NEAR/3 breach)") == "privacy"
    assert x("privacy -journo*") == "privacy"
    assert x("privacy -{ICO}") == "privacy"


def test_case_sensitive_terms_lose_their_case_sensitivity():
    assert x("{ICO} fine") == "ICO fine"


def test_platform_is_settled_at_compile_time():
    assert x("platform:x privacy") == "privacy"
    assert x("privacy OR (platform:bluesky gdpr)") == "privacy"
    assert not_supported("platform:bluesky privacy", "x").startswith("This search can never match posts from X")


def test_watch_lists_compile_to_x_list_ids_where_the_list_has_one():
    ids = {"Tech Journalists": "1234567890"}
    compiled = x(ICO_LIST_QUERY, x_list_ids=ids)
    assert compiled.startswith("list:1234567890 (#journorequest OR journorequest OR")
    assert x(ICO_LIST_QUERY).startswith("#journorequest OR journorequest OR")
    assert x("list:(mps OR \"tech journalists\") gdpr", x_list_ids=ids) == "gdpr"


@pytest.mark.parametrize(
    "query",
    ["journo*", "journo* -privacy", "site:bbc.co.uk", "list:mps", "is:reply", "has:links lang:en", "privacy OR journo*"],
)
def test_it_refuses_when_nothing_positive_is_left_for_x(query):
    not_supported(query, "x")


def test_it_refuses_a_query_longer_than_the_limit_and_the_limit_is_configurable():
    query = " OR ".join(f'"phrase number {n}"' for n in range(40))
    reason = not_supported(query, "x")
    assert "512" in reason
    assert len(x(query, x_max_length=1024)) > 512
    not_supported("privacy", "x", x_max_length=3)


@pytest.mark.parametrize(
    "query, native",
    [
        ('"the ICO" -spam', '"the ICO" -spam'),
        ("data NEAR/3 breach", "data breach"),
        ("journo* request", "request"),
        ("ico (privacy OR gdpr)", "ico"),
        ("from:ICOnews privacy", "from:ICOnews privacy"),
        ("privacy lang:en", "privacy lang:en"),
        ("privacy links:ico.org.uk/about", "privacy domain:ico.org.uk"),
        ("privacy url:https://ico.org.uk/a", "privacy url:https://ico.org.uk/a"),
        ("#privacy @ICOnews", "#privacy mentions:ICOnews"),
        ("privacy -from:bob -#spam", "privacy"),
        ("privacy to:ICOnews is:reply", "privacy"),
    ],
)
def test_it_compiles_to_bluesky_search(query, native):
    assert parse(query).to_native("bluesky") == native


@pytest.mark.parametrize("query", ["privacy OR gdpr", "to:commissioner", "journo*", "is:reply", "journo* -privacy"])
def test_it_refuses_what_bluesky_cannot_search(query):
    not_supported(query, "bluesky")


def test_bluesky_parameters_carry_the_filters_of_the_top_level_and():
    params = parse("privacy #gdpr from:@ICOnews mentions:jane.bsky.social lang:en links:ico.org.uk/x -spam").to_bluesky_params()
    assert params == {
        "q": "privacy gdpr -spam",
        "tag": ["gdpr"],
        "author": "ICOnews",
        "mentions": "jane.bsky.social",
        "lang": "en",
        "domain": "ico.org.uk",
    }


def test_bluesky_parameters_use_the_inline_form_when_no_word_is_left_for_q():
    assert parse("links:ico.org.uk").to_bluesky_params() == {"q": "domain:ico.org.uk", "domain": "ico.org.uk"}


def test_bluesky_parameters_leave_out_filters_inside_an_or():
    assert parse("privacy (from:alice OR from:bob)").to_bluesky_params() == {"q": "privacy"}


@pytest.mark.parametrize(
    "query, native",
    [
        ('"the ICO" -spam', '"the ICO" -spam'),
        ("from:ICOnews privacy", "from:ICOnews privacy"),
        ("privacy is:reply has:links lang:cy", "privacy is:reply has:link language:cy"),
        ("#privacy", "privacy"),
        ("privacy @ICOnews", "privacy"),
        ("privacy NEAR/2 notice", "privacy notice"),
        ("privacy (gdpr OR ico)", "privacy"),
        ("privacy is:quote", "privacy"),
        ("platform:mastodon privacy", "privacy"),
    ],
)
def test_it_compiles_to_mastodon_search(query, native):
    assert parse(query).to_native("mastodon") == native


@pytest.mark.parametrize("query", ["privacy OR gdpr", "links:ico.org.uk", "@ICOnews", "platform:x privacy"])
def test_it_refuses_what_mastodon_cannot_search(query):
    not_supported(query, "mastodon")


@pytest.mark.parametrize("platform", ["youtube", "facebook", "reddit", "rss", "demo", ""])
def test_platforms_without_a_compiled_search_are_refused_with_a_reason(platform):
    assert "matched" in not_supported("privacy", platform)


def test_the_reason_names_what_the_platform_cannot_express():
    assert "OR" in not_supported("privacy OR gdpr", "bluesky")
    assert "to:" in not_supported("to:commissioner", "mastodon")
