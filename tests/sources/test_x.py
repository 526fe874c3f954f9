"""The X source against a fake X API on a local socket (tests/fakes/x.py)."""

from datetime import datetime, timezone

import pytest

from listening.query import QueryNotSupported, parse
from listening.sources import get_source
from listening.sources.base import BadCredentials, HarvestError, MalformedPage, PlatformUnavailable, RateLimited
from listening.sources.x import XSource
from tests.fakes.server import FakeServer, Reply
from tests.fakes.x import MENTIONS, LIST_TWEETS, SEARCH, USER, FakeX, fixture

pytestmark = pytest.mark.timeout(60)

TOKEN = "test-bearer-token"
ORG_ID = "1000000006"
QUERY = parse('"data protection" OR #GDPR')
CORPUS_IDS = sorted((tweet["id"] for tweet in fixture("corpus.json")["data"]), key=int, reverse=True)


@pytest.fixture
def fake():
    with FakeServer() as server:
        yield FakeX(server, bearer_token=TOKEN)


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def source(fake, sleeps):
    return make_source(fake, sleeps)


def make_source(fake, sleeps=None, **kwargs) -> XSource:
    credentials = kwargs.pop("credentials", {"bearer_token": TOKEN, "user_id": ORG_ID})
    return XSource(
        credentials=credentials,
        base_url=fake.url,
        page_size=kwargs.pop("page_size", 10),
        sleep=(sleeps if sleeps is not None else []).append,
        **kwargs,
    )


def run(source, cursor=None, max_pages=10, **kwargs):
    return list(source.pages(query=kwargs.pop("query", QUERY), cursor=cursor or {}, max_pages=max_pages, **kwargs))


def ids(pages) -> list[str]:
    return [post.external_id for page in pages for post in page.posts]


def by_id(pages) -> dict:
    return {post.external_id: post for page in pages for post in page.posts}


# --------------------------------------------------------------------------- requests and normalising


def test_it_searches_for_the_compiled_query_with_the_fields_and_expansions_it_reads(fake, source):
    run(source)
    request = fake.server.requests(SEARCH)[0]
    assert request.arg("query") == '"data protection" OR #GDPR'
    assert request.arg("expansions") == "author_id,referenced_tweets.id,referenced_tweets.id.author_id,in_reply_to_user_id"
    assert request.arg("tweet.fields") == "created_at,lang,entities,referenced_tweets,in_reply_to_user_id,conversation_id"
    assert request.arg("user.fields") == "username,name,verified"
    assert request.arg("max_results") == "10"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_it_normalises_posts_replies_quotes_and_reposts(fake, source):
    posts = by_id(run(source))

    guidance = posts["1785903311824896001"]
    assert guidance.platform == "x"
    assert guidance.author_handle == "ICOnews" and guidance.author_name == "ICO"
    assert guidance.url == "https://x.com/ICOnews/status/1785903311824896001"
    assert guidance.created_at == datetime(2024, 5, 2, 8, 30, 4, tzinfo=timezone.utc)
    assert guidance.lang == "en"
    assert guidance.kind == "post" and guidance.referenced_id == ""
    assert guidance.author_verified is True  # asked for in user.fields
    link = "https://ico.org.uk/for-organisations/uk-gdpr-guidance-and-resources/subject-access-requests/"
    assert guidance.links == (link,)
    assert link in guidance.text and "t.co" not in guidance.text  # the short link is expanded in place
    assert guidance.raw == fake.tweets["1785903311824896001"]

    reply = posts["1785905128390213632"]
    assert reply.kind == "reply"
    assert reply.in_reply_to_handle == "ICOnews"
    assert reply.mentions == ("ICOnews",)
    assert "client & their employer" in reply.text  # X's &amp; undone

    quote = posts["1785911960123469825"]
    assert quote.kind == "quote" and quote.author_handle == "techjourno_tom"
    assert quote.referenced_id == "1785903311824896001" and quote.author_verified is False

    repost = posts["1785913207745609728"]
    assert repost.kind == "repost" and repost.author_handle == "foi_fiona"
    assert repost.text == "RT @ICOnews: " + guidance.text  # the full text, not X's truncated copy
    assert repost.mentions == ("ICOnews",)
    assert repost.referenced_id == "1785903311824896001"  # groups with the original in the inbox

    welsh = posts["1785920644221878273"]
    assert welsh.lang == "cy" and welsh.author_name == "Cyngor Caerdydd | Cardiff Council"
    assert welsh.links == ("https://www.caerdydd.gov.uk/CY/Preifatrwydd/Pages/default.aspx",)

    assert posts["1785934418827919360"].mentions == ("NHSEngland",)
    assert "🙄" in posts["1785934418827919360"].text
    assert posts["1785980011402711041"].lang == ""  # X's zxx: no language
    assert posts["1785972286711087104"].lang == "fr"


def test_the_compiled_query_matches_the_posts_it_fetched(source):
    posts = by_id(run(source))
    assert QUERY.matches(posts["1785903311824896001"])  # #GDPR
    assert QUERY.matches(posts["1785958829163532289"])  # "Data protection fee"
    assert not QUERY.matches(posts["1785940235063451649"])


def test_a_query_x_cannot_express_fails_before_any_request(fake, source):
    with pytest.raises(QueryNotSupported):
        run(source, query=parse("journo*"))
    assert fake.server.requests() == []


# --------------------------------------------------------------------------- paging and cursors


def test_it_pages_by_token_and_moves_since_id_only_after_the_last_page(fake, source):
    fake.add_tweets(15)
    pages = run(source)
    newest = max(fake.tweets, key=int)
    assert [len(page.posts) for page in pages] == [10, 10, 7]
    assert pages[0].cursor == {"next_token": pages[0].cursor["next_token"], "pending_newest_id": newest}
    assert pages[1].cursor["pending_newest_id"] == newest and "since_id" not in pages[1].cursor
    assert pages[2].cursor == {"since_id": newest}
    assert [page.has_more for page in pages] == [True, True, False]
    assert sorted(ids(pages), key=int) == sorted(fake.tweets, key=int)
    assert [page.requests for page in pages] == [1, 1, 1]
    tokens = [request.arg("next_token") for request in fake.server.requests(SEARCH)]
    assert tokens == [None, pages[0].cursor["next_token"], pages[1].cursor["next_token"]]


def test_a_second_run_fetches_only_newer_posts(fake, source):
    first = run(source)
    new = fake.add_tweets(3)
    second = run(source, cursor=first[-1].cursor)
    assert ids(second) == [tweet["id"] for tweet in reversed(new)]
    assert fake.server.requests(SEARCH)[-1].arg("since_id") == CORPUS_IDS[0]
    assert second[-1].cursor == {"since_id": new[-1]["id"]}


def test_a_run_with_nothing_new_keeps_its_cursor(fake, source):
    first = run(source)
    again = run(source, cursor=first[-1].cursor)
    assert len(again) == 1 and again[0].posts == [] and again[0].skipped == []
    assert again[0].cursor == first[-1].cursor


def test_a_run_stopped_between_pages_resumes_with_no_gap_and_no_repeat(fake, source):
    fake.add_tweets(15)  # 27 posts: three pages
    before = set(fake.tweets)
    stopped = run(source, max_pages=1)  # the worker dies after storing the first page
    arrived = fake.add_tweets(4)  # posts keep arriving meanwhile
    resumed = run(source, cursor=stopped[-1].cursor)
    assert [request.arg("since_id") for request in fake.server.requests(SEARCH)] == [None, None, None]
    later = run(source, cursor=resumed[-1].cursor)
    seen = ids(stopped) + ids(resumed) + ids(later)
    assert len(seen) == len(set(seen))
    assert set(seen) == before | {tweet["id"] for tweet in arrived}
    assert set(ids(later)) == {tweet["id"] for tweet in arrived}


def test_it_yields_a_post_once_when_x_repeats_it_on_the_next_page(fake, source):
    fake.add_tweets(15)
    pages = source.pages(query=QUERY, cursor={}, max_pages=5)
    first = next(pages)
    repeated = first.posts[-1].raw
    older = fake.tweets[CORPUS_IDS[-1]]
    fake.server.script("GET", SEARCH, Reply.json({"data": [repeated, older], "meta": {"result_count": 2}}))
    second = next(pages)
    assert ids([second]) == [older["id"]]


def test_an_expired_page_token_starts_the_scan_again_from_since_id(fake, source):
    first = run(source)
    new = fake.add_tweets(2)
    stale = {**first[-1].cursor, "next_token": "b26v89c19zqg8o3fr5p4m6t0v4lrjxvjmbyzgpwhhqvyl", "pending_newest_id": CORPUS_IDS[0]}
    fake.server.script("GET", SEARCH, Reply.json(fixture("invalid_pagination_token.json"), status=400))
    pages = run(source, cursor=stale)
    assert ids(pages) == [tweet["id"] for tweet in reversed(new)]
    assert "started again" in pages[0].notes[0]
    assert pages[-1].cursor == {"since_id": new[-1]["id"]}


def test_an_empty_result_is_one_empty_page(fake, source):
    fake.search_ids = []
    pages = run(source, cursor={"since_id": "1785000000000000000"})
    assert len(pages) == 1
    assert pages[0].posts == [] and pages[0].cursor == {"since_id": "1785000000000000000"} and not pages[0].has_more
    assert run(source)[0].cursor == {}


def test_each_page_reports_the_budget_x_gave(fake, source):
    page = run(source, max_pages=1)[0]
    assert page.rate_limit.limit == 450
    assert page.rate_limit.remaining == 449
    assert page.rate_limit.reset_at == datetime.fromtimestamp(fake.reset, tz=timezone.utc)


# --------------------------------------------------------------------------- faults


def test_a_rate_limit_raises_with_xs_reset_after_one_request(fake, source, sleeps):
    reset = int(datetime.now(timezone.utc).timestamp()) + 540
    fake.server.script("GET", SEARCH, fake.rate_limit_reply(reset))
    with pytest.raises(RateLimited, match="Too Many Requests") as caught:
        run(source)
    assert caught.value.retry_at == datetime.fromtimestamp(reset, tz=timezone.utc)
    assert caught.value.rate_limit.remaining == 0
    assert len(fake.server.requests(SEARCH)) == 1
    assert sleeps == []


def test_a_spent_budget_mid_run_stops_the_run_after_the_pages_already_read(fake, source):
    fake.add_tweets(15)
    fake.remaining = 1
    pages = source.pages(query=QUERY, cursor={}, max_pages=5)
    first = next(pages)
    with pytest.raises(RateLimited):
        next(pages)
    assert first.cursor["pending_newest_id"] == max(fake.tweets, key=int)
    assert len(fake.server.requests(SEARCH)) == 2


def test_server_errors_are_retried_with_backoff_then_the_page_is_read(fake, source, sleeps):
    fake.server.script(
        "GET",
        SEARCH,
        Reply.json(fixture("service_unavailable.json"), status=503),
        Reply.html(fixture("error_page.html"), status=500),
    )
    pages = run(source)
    assert len(ids(pages)) == len(CORPUS_IDS)
    assert len(sleeps) == 2
    assert pages[0].requests == 3


def test_server_errors_that_persist_fail_the_run_after_bounded_retries(fake, source, sleeps):
    fake.server.script("GET", SEARCH, *[Reply.json(fixture("service_unavailable.json"), status=503)] * 6)
    with pytest.raises(PlatformUnavailable, match="4 attempts"):
        run(source)
    assert len(fake.server.requests(SEARCH)) == 4
    assert len(sleeps) == 3


def test_an_unreachable_x_fails_the_run_after_bounded_retries(sleeps):
    with FakeServer() as server:
        url = server.url
    source = XSource(credentials={"bearer_token": TOKEN}, base_url=url, sleep=sleeps.append, retries=1)
    with pytest.raises(PlatformUnavailable, match="connection failed"):
        run(source)
    assert len(sleeps) == 1


def test_malformed_items_are_skipped_and_recorded_and_the_rest_is_kept(fake, source):
    fake.server.script("GET", SEARCH, Reply.json(fixture("malformed_items.json")))
    page = run(source)[0]
    assert ids([page]) == ["1785990000000000001", "1785990000000000007"]
    assert page.posts[1].links == ("https://ico.org.uk/action-weve-taken/decision-notices/",)
    assert len(page.skipped) == 5
    reasons = " | ".join(page.skipped)
    assert "'None' is not an X id" in reasons
    assert "post 1785990000000000003: created_at 'last Tuesday' is not a time" in reasons
    assert "post 1785990000000000004: text is list, not text" in reasons
    assert "post 1785990000000000005: entities.urls is not a list of objects" in reasons
    assert "an item that is str, not a post" in reasons
    assert page.cursor == {"since_id": "1785990000000000007"}
    assert page.read == 7


@pytest.mark.parametrize(
    "reply, message",
    [
        (Reply.raw('{"data": [{"id": "1", "text": "cut off'), "invalid JSON"),
        (Reply.html(fixture("error_page.html")), "an HTML page"),
        (Reply.json({"data": [{"id": "1785990000000000001", "text": "x"}] * 50}, truncate_at=300), "truncated"),
        (Reply.json({"data": "nothing", "meta": {"result_count": 0}}), "not a list of posts"),
        (Reply.json(["a", "list"]), "not a page of posts"),
    ],
)
def test_a_malformed_page_fails_the_run_and_leaves_the_cursor(fake, source, sleeps, reply, message):
    fake.add_tweets(15)
    pages = source.pages(query=QUERY, cursor={"since_id": "1"}, max_pages=5)
    first = next(pages)
    fake.server.script("GET", SEARCH, reply)
    with pytest.raises(MalformedPage, match=message):
        next(pages)
    assert "next_token" in first.cursor  # what would be stored is the first page's cursor
    assert sleeps == []


def test_a_body_over_the_cap_is_a_malformed_page(fake, sleeps):
    source = make_source(fake, sleeps, max_body_bytes=2000)
    with pytest.raises(MalformedPage, match="over the 2,000-byte cap"):
        run(source)


def test_a_refused_bearer_token_is_bad_credentials(fake, sleeps):
    source = make_source(fake, sleeps, credentials={"bearer_token": "revoked"})
    with pytest.raises(BadCredentials, match=r"authentication failed \(401\): Unauthorized"):
        run(source)
    assert len(fake.server.requests(SEARCH)) == 1 and sleeps == []


def test_an_app_without_api_access_is_bad_credentials_in_xs_words(fake, source, sleeps):
    fake.server.script("GET", SEARCH, Reply.json(fixture("client_forbidden.json"), status=403))
    with pytest.raises(BadCredentials, match=r"\(403\): When authenticating requests to the Twitter API v2 endpoints"):
        run(source)
    assert sleeps == []


def test_a_missing_bearer_token_is_bad_credentials_without_a_request(fake, sleeps):
    with pytest.raises(BadCredentials, match="no bearer_token"):
        run(make_source(fake, sleeps, credentials={}))
    assert fake.server.requests() == []


# --------------------------------------------------------------------------- channels


def test_the_mentions_channel_reads_the_organisations_mentions_incrementally(fake, source):
    first = list(source.pages(channel="mentions", cursor={}, max_pages=5))
    assert ids(first) == ["1785966714601943040", "1785951101472972800"]
    assert fake.server.requests(MENTIONS)[0].path == f"/2/users/{ORG_ID}/mentions"
    assert first[-1].cursor == {"since_id": "1785966714601943040"}
    mention = fake.add_tweet(
        "@InfoCommissioner is there a template for a subject access request?",
        entities={"mentions": [{"start": 0, "end": 17, "username": "InfoCommissioner", "id": ORG_ID}]},
    )
    fake.add_tweet("Nothing to do with the Commissioner")
    second = list(source.pages(channel="mentions", cursor=first[-1].cursor, max_pages=5))
    assert ids(second) == [mention["id"]]
    assert fake.server.requests(MENTIONS)[-1].arg("since_id") == "1785966714601943040"


def test_the_mentions_channel_pages_with_pagination_token(fake, sleeps):
    source = make_source(fake, sleeps, page_size=5)
    for n in range(7):
        fake.add_tweet(f"@InfoCommissioner question {n}", entities={"mentions": [{"start": 0, "end": 17, "username": "InfoCommissioner"}]})
    pages = list(source.pages(channel="mentions", cursor={}, max_pages=5))
    assert [len(page.posts) for page in pages] == [5, 4]
    assert fake.server.requests(MENTIONS)[1].arg("pagination_token") == pages[0].cursor["next_token"]


def test_the_mentions_channel_needs_the_organisations_user_id(fake, sleeps):
    with pytest.raises(BadCredentials, match="no user_id"):
        list(make_source(fake, sleeps, credentials={"bearer_token": TOKEN}).pages(channel="mentions", cursor={}, max_pages=1))


def test_a_list_channel_stops_at_the_first_post_already_seen(fake, source):
    fake.lists["1460123456789012345"] = {"1000000001", "1000000005"}  # ICOnews and techjourno_tom
    first = list(source.pages(channel="list:1460123456789012345", cursor={}, max_pages=5))
    assert {post.author_handle for post in first[0].posts} == {"ICOnews", "techjourno_tom"}
    assert len(ids(first)) == 5
    assert first[-1].cursor == {"last_seen_id": "1785980011402711041"}
    for n in range(12):
        fake.add_tweet(f"ICO update {n}: new FOI guidance", author="1000000001")
    fake.add_tweet("Not on the list", author="1000000002")
    second = list(source.pages(channel="list:1460123456789012345", cursor=first[-1].cursor, max_pages=5))
    assert len(ids(second)) == 12
    assert all(post.author_handle == "ICOnews" for post in second[-1].posts)
    assert second[-1].cursor == {"last_seen_id": max(ids(second), key=int)}
    requests = fake.server.requests(LIST_TWEETS)[1:]
    assert len(requests) == 2  # page two holds the first known post: no third request
    assert all(request.arg("since_id") is None for request in requests)


def test_a_list_channel_stopped_midway_resumes_with_no_gap(fake, source):
    fake.lists["77"] = {"1000000002"}
    posted = fake.add_tweets(25, author="1000000002")
    stopped = list(source.pages(channel="list:77", cursor={}, max_pages=1))
    assert "pagination_token" in stopped[-1].cursor
    resumed = list(source.pages(channel="list:77", cursor=stopped[-1].cursor, max_pages=5))
    seen = ids(stopped) + ids(resumed)
    list_ids = {tweet["id"] for tweet in posted} | {"1785905128390213632", "1785951101472972800"}
    assert len(seen) == len(set(seen)) and set(seen) == list_ids
    assert resumed[-1].cursor == {"last_seen_id": posted[-1]["id"]}


def test_an_unknown_list_fails_with_xs_message(fake, source):
    with pytest.raises(HarvestError, match=r"Could not find list with id: \[999\]"):
        list(source.pages(channel="list:999", cursor={}, max_pages=1))


@pytest.mark.parametrize(
    "channel, valid", [("mentions", True), ("list:1460123456789012345", True), ("list:tech-journalists", False), ("home", False)]
)
def test_channel_strings(channel, valid):
    assert (XSource.channel_error(channel) == "") is valid


# --------------------------------------------------------------------------- connection check and the stable interface


def test_check_connection_names_the_organisations_account(fake, source):
    assert "@InfoCommissioner" in source.check_connection()
    assert fake.server.requests(USER)[0].path == f"/2/users/{ORG_ID}"


def test_check_connection_without_a_user_id_makes_a_minimal_search(fake, sleeps):
    message = make_source(fake, sleeps, credentials={"bearer_token": TOKEN}).check_connection()
    assert "recent search answered" in message
    assert fake.server.requests(SEARCH)[0].arg("max_results") == "10"


def test_check_connection_reports_xs_refusal(fake, sleeps):
    with pytest.raises(BadCredentials, match="Unauthorized"):
        make_source(fake, sleeps, credentials={"bearer_token": "nope", "user_id": ORG_ID}).check_connection()


def test_get_source_reads_x_through_the_stable_interface(fake):
    source = get_source("x", credentials={"bearer_token": TOKEN}, base_url=fake.url)
    pages = list(source.pages(query=QUERY, cursor={}, max_pages=5))
    assert sorted(ids(pages), key=int, reverse=True) == CORPUS_IDS
    assert pages[-1].cursor == {"since_id": CORPUS_IDS[0]}
