"""The prefiltered matcher: same answers as evaluating every query, far less work."""

from listening.posts import Post
from listening.query import WatchLists, parse
from listening.query.matcher import Matcher
from listening.query.prepared import PreparedPost

ICO_SEARCHES = {
    "commissioner": "to:commissioner",
    "the ico": '"the ICO"',
    "site": "links:ico.org.uk",
    "fee": '"ICO registration letter" OR "data protection fee"',
    "journalists": 'list:"tech journalists" (#journorequest OR journorequest OR journorequests OR "PR request" '
    'OR #PRRequest OR "DMs open" OR "get in touch" OR "data protection" OR GDPR OR FOI OR privacy)',
}
LISTS = {"Tech Journalists": {"@SophiaSGaler", "janedoe"}}


def post(text="", **fields):
    return Post(platform="x", external_id="1", text=text, **fields)


def matcher(searches=ICO_SEARCHES):
    return Matcher((key, parse(query)) for key, query in searches.items())


def both(m, p, lists=LISTS):
    found = m.match(p, lists=lists)
    assert found == m.match_unfiltered(p, lists=lists)
    return found


def test_it_returns_the_keys_of_matching_queries_in_entry_order():
    p = post("Paid the data protection fee, says the ICO", in_reply_to_handle="Commissioner")
    assert both(matcher(), p) == ["commissioner", "the ico", "fee"]


def test_it_matches_the_icos_saved_searches():
    m = matcher()
    assert both(m, post("see https://www.ico.org.uk/about")) == ["site"]
    assert both(m, post("#JournoRequest on GDPR fines", author_handle="sophiasgaler")) == ["journalists"]
    assert both(m, post("#JournoRequest on GDPR fines", author_handle="someone")) == []
    assert both(m, post("nothing to see here")) == []


def test_a_post_that_matches_nothing_makes_no_query_a_candidate():
    m = matcher()
    prepared = PreparedPost(post("lovely weather for a walk"))
    assert m.candidates(prepared, WatchLists(LISTS)) == []
    assert prepared._fields is None  # the text was never tokenised


def test_a_key_inside_a_longer_word_does_not_make_a_candidate():
    m = matcher({"ico": "ico"})
    assert m.candidates(PreparedPost(post("an iconic picture")), WatchLists()) == []
    assert m.candidates(PreparedPost(post("the ICO's view")), WatchLists()) == [0]


def test_wildcard_keys_only_need_their_literal_start():
    m = matcher({"journo": "journo*"})
    assert both(m, post("#journorequests welcome")) == ["journo"]
    assert m.candidates(PreparedPost(post("adjourn")), WatchLists()) == []


def test_field_only_queries_are_indexed_on_the_posts_attributes():
    m = matcher({"to": "to:commissioner", "reply": "is:reply", "lang": "lang:cy", "author": "author:(alice OR bob)"})
    assert both(m, post("hi", in_reply_to_handle="@Commissioner")) == ["to", "reply"]
    assert both(m, post("hi", kind="reply", lang="CY")) == ["reply", "lang"]
    assert both(m, post("hi", author_handle="Bob")) == ["author"]
    assert m.candidates(PreparedPost(post("hi", author_handle="carol")), WatchLists()) == []


def test_mentions_are_found_in_the_posts_mentions_field():
    m = matcher({"at": "@ICOnews", "op": "mentions:iconews", "has": "has:mentions"})
    assert both(m, post("thanks", mentions=("ICOnews",))) == ["at", "op", "has"]
    assert both(m, post("thanks @ICOnews.")) == ["at", "op", "has"]


def test_watch_lists_compare_names_and_handles_case_insensitively():
    m = matcher({"list": 'list:"TECH journalists"'})
    assert both(m, post("x", author_handle="SophiaSGaler")) == ["list"]
    assert both(m, post("x", author_handle="@JaneDoe")) == ["list"]
    assert both(m, post("x", author_handle="someone")) == []
    assert both(m, post("x", author_handle="janedoe"), lists={"other": {"janedoe"}}) == []
    assert both(m, post("x", author_handle="janedoe"), lists=None) == []


def test_a_watch_list_that_grows_between_calls_is_seen():
    m = matcher({"list": "list:mps"})
    lists = {"MPs": {"alice"}}
    assert m.match(post("x", author_handle="bob"), lists=lists) == []
    lists["MPs"].add("bob")
    assert m.match(post("x", author_handle="bob"), lists=lists) == ["list"]


def test_it_accepts_prepared_watch_lists_and_posts():
    m = matcher()
    lists = WatchLists(LISTS)
    prepared = PreparedPost(post("GDPR", author_handle="janedoe"))
    assert m.match(prepared, lists=lists) == ["journalists"]


def test_an_empty_matcher_matches_nothing():
    assert Matcher([]).match(post("anything")) == []


def test_accents_and_case_do_not_hide_a_candidate():
    m = matcher({"cafe": "cafe", "strasse": "strasse", "resume": "{Résumé}"})
    assert both(m, post("CAFÉ on the STRAẞE, Résumé attached")) == ["cafe", "strasse", "resume"]


def test_a_character_that_folds_to_a_letter_does_not_hide_a_candidate():
    # U+0345 outside a word folds to a letter, which would hide the word boundary.
    m = matcher({"ico": "ico"})
    assert both(m, post("\u0345ico")) == ["ico"]


def test_links_site_and_url_keys_find_the_posts_addresses():
    m = matcher({"links": "links:ico.org.uk/about", "site": "site:bbc.co.uk", "url": "url:utm_source"})
    p = post("x", links=("https://news.ico.org.uk/about/x?utm_source=y",), url="https://www.bbc.co.uk/news/1")
    assert both(m, p) == ["links", "site", "url"]


def test_a_candidate_missing_a_phrases_other_words_is_rejected_without_tokenising():
    # "information" makes the query a candidate; "freedom", "sharing" and "#ai" are absent.
    m = matcher({"q": '("freedom of information" OR "data sharing" OR #AI) -giveaway'})
    prepared = PreparedPost(post("an information request"))
    assert m.candidates(prepared, WatchLists()) == [0]
    assert m.match(prepared) == []
    assert prepared._fields is None
    assert m.match_unfiltered(prepared) == []


def test_guarded_queries_give_the_same_answers_and_spans():
    searches = {
        "or": '("freedom of information" OR "data sharing" OR #AI) -giveaway -competition',
        "near": '"data breach" NEAR/3 (ICO OR "information commissioner")',
        "tilde": '"breach ignored council"~4 "NHS England"',
        "mention": "@ICOnews is:reply",
        "nested": "(privacy OR (journo* AND NOT giveaway)) AND (notice OR @bbcnews)",
    }
    m = matcher(searches)
    queries = {key: parse(text) for key, text in searches.items()}
    texts = [
        "Freedom-of-Information request, data sharing and #ai",
        "the giveaway: freedom of information",
        "data breach reported to the ICO",
        "breach at the information commissioner, data everywhere",
        "council ignored the breach for weeks, says NHS England",
        "NHS England breach",
        "thanks @ICOnews",
        "journos: privacy notice from @BBCNews",
        "journalist giveaway notice",
    ]
    for text in texts:
        for fields in ({}, {"in_reply_to_handle": "someone", "mentions": ("@ICOnews",)}):
            p = post(text, title=text.upper(), **fields)
            found = both(m, p)
            for key in searches:
                assert m.spans(key, p) == queries[key].spans(p)
            assert found == [key for key in searches if queries[key].matches(p)]
