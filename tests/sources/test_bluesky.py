"""The Bluesky source against a fake PDS on a real socket."""

import copy
from datetime import datetime, timezone

import pytest
from django.core.cache import cache

from listening.query import parse
from listening.sources import BadCredentials, HarvestError, MalformedPage, PlatformUnavailable, RateLimited, get_source
from listening.sources.bluesky import MAX_PAGES_PER_RUN, OVERLAP, BlueskySource
from tests.fakes.bluesky import APP_PASSWORD, ORG_DID, ORG_HANDLE, FakeBluesky, load

pytestmark = pytest.mark.timeout(60)

SEARCH = "app.bsky.feed.searchPosts"
NOTIFICATIONS = "app.bsky.notification.listNotifications"
CREATE = "com.atproto.server.createSession"
REFRESH = "com.atproto.server.refreshSession"


@pytest.fixture
def fake():
    with FakeBluesky() as server:
        server.posts = load("search_posts.json")
        server.notifications = load("notifications.json")
        yield server
        cache.delete(BlueskySource(credentials=server.credentials, base_url=server.url)._cache_key)


def source(fake, **kwargs):
    return get_source("bluesky", credentials=kwargs.pop("credentials", fake.credentials), base_url=fake.url)


def quiet_source(fake, sleeps=None):
    """A source whose retry backoff records its sleeps instead of sleeping."""
    return BlueskySource(credentials=fake.credentials, base_url=fake.url, sleep=(sleeps.append if sleeps is not None else lambda s: None))


def run(src, *, cursor=None, max_pages=5, query="privacy", channel=None):
    if channel:
        return list(src.pages(channel=channel, cursor=cursor or {}, max_pages=max_pages))
    return list(src.pages(query=parse(query), cursor=cursor or {}, max_pages=max_pages))


def posts_of(pages):
    return [post for page in pages for post in page.posts]


def when(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---------------------------------------------------------------- search and paging


def test_it_pages_search_results_newest_first_following_the_cursor(fake):
    fake.page_size = 3
    pages = run(source(fake), query='"subject access" FOI')
    assert [len(page.posts) for page in pages] == [3, 3, 2]
    assert [page.has_more for page in pages] == [True, True, False]
    calls = fake.calls(SEARCH)
    assert len(calls) == 3
    assert calls[0]["params"]["sort"] == ["latest"] and calls[0]["params"]["limit"] == ["100"]
    assert "cursor" not in calls[0]["params"]
    assert calls[1]["params"]["cursor"] and calls[2]["params"]["cursor"] != calls[1]["params"]["cursor"]
    assert [p.external_id for p in posts_of(pages)] == [v["uri"] for v in fake.posts]


def test_it_sends_the_compiled_query_and_its_filters_as_parameters(fake):
    run(source(fake), query="privacy from:jane-foi.bsky.social lang:en #GDPR links:ico.org.uk")
    params = fake.calls(SEARCH)[0]["params"]
    assert params["q"] == ["privacy GDPR"]
    assert params["author"] == ["jane-foi.bsky.social"]
    assert params["lang"] == ["en"] and params["tag"] == ["GDPR"] and params["domain"] == ["ico.org.uk"]


@pytest.mark.parametrize(
    "query, reason",
    [("(privacy OR gdpr) -spam", "OR"), ("journo* OR priv*", "wildcards")],
    ids=["an-or-inside-an-and", "no-or-part-searchable"],
)
def test_a_query_bluesky_cannot_search_ends_the_run_with_the_reason(fake, query, reason):
    with pytest.raises(HarvestError, match=reason):
        run(source(fake), query=query)
    assert fake.calls(SEARCH) == []


def test_it_normalises_a_post(fake):
    post = posts_of(run(source(fake)))[0]
    view = fake.posts[0]
    assert post.platform == "bluesky" and post.external_id == view["uri"]
    assert post.url == "https://bsky.app/profile/cerys.bsky.social/post/3lnq7x2kz4c2a"
    assert post.author_handle == "cerys.bsky.social" and post.author_name == "Cerys Davies 🏴󠁧󠁢󠁷󠁬󠁳󠁿"
    assert post.created_at == datetime(2025, 5, 14, 11, 42, 7, 512000, tzinfo=timezone.utc)
    assert post.lang == "cy" and post.kind == "post" and post.text == view["record"]["text"]
    assert post.raw == view


def test_facets_are_read_by_utf8_byte_offsets(fake):
    posts = {p.external_id.rsplit("/", 1)[1]: p for p in posts_of(run(source(fake)))}
    welsh = posts["3lnq7x2kz4c2a"]
    start, end = (fake.posts[0]["record"]["facets"][0]["index"][k] for k in ("byteStart", "byteEnd"))
    # "’" is three bytes: read as character offsets the slice would be off by two.
    assert welsh.text[start:end] != "@" + ORG_HANDLE
    assert welsh.mentions == (ORG_HANDLE,)
    assert welsh.links == ("https://www.northmoor.gov.uk/foi-log",)
    guidance = posts["3lnq6vwbbyk2f"]  # "📣" (four bytes) comes before its link facet
    assert guidance.links == ("https://ico.org.uk/for-organisations/advice-for-education/subject-access-requests-in-schools/",)


def test_a_mention_facet_over_text_that_is_not_a_handle_names_no_one(fake):
    posts = {p.external_id.rsplit("/", 1)[1]: p for p in posts_of(run(source(fake)))}
    assert posts["3lnq2pqlaus2m"].mentions == ()


def test_replies_quotes_link_cards_and_invalid_handles(fake):
    posts = {p.external_id.rsplit("/", 1)[1]: p for p in posts_of(run(source(fake)))}
    reply = posts["3lnq6k5fwcs2b"]
    assert reply.kind == "reply" and reply.in_reply_to_handle == "jane-foi.bsky.social"
    assert reply.mentions == ("jane-foi.bsky.social",)
    assert posts["3lnq5wtm6ts2y"].kind == "quote"
    assert posts["3lnq5wtm6ts2y"].referenced_id == "at://did:plc:l33dsliv3n3wsd3sk7ef2gh3/app.bsky.feed.post/3lnq4ahs7ck2d"
    assert reply.referenced_id == "" and not reply.author_verified
    assert posts["3lnq4zxc2dk2s"].links == ("https://www.gov.uk/government/consultations/nhs-data-sharing",)
    assert posts["3lnq4ahs7ck2d"].lang == "en"  # en-GB
    broken = posts["3lnq3rbn4sk2q"]
    assert broken.author_handle == "did:plc:brok3nh4ndl3xx2op3qr4st5"
    assert broken.url == "https://bsky.app/profile/did:plc:brok3nh4ndl3xx2op3qr4st5/post/3lnq3rbn4sk2q"


def test_the_parent_of_a_reply_is_named_with_one_profile_lookup(fake):
    reply = copy.deepcopy(fake.posts[2])
    reply["record"]["reply"]["parent"]["uri"] = "at://did:plc:l33dsliv3n3wsd3sk7ef2gh3/app.bsky.feed.post/3lnq4ahs7ck2d"
    reply["record"]["facets"] = []
    fake.posts = [reply, copy.deepcopy(reply) | {"uri": reply["uri"] + "x"}]
    posts = posts_of(run(source(fake)))
    assert [p.in_reply_to_handle for p in posts] == ["leedslive-news.bsky.social"] * 2
    assert len(fake.calls("app.bsky.actor.getProfiles")) == 1


def test_a_failed_profile_lookup_keeps_the_posts(fake):
    reply = copy.deepcopy(fake.posts[2])
    reply["record"]["reply"]["parent"]["uri"] = "at://did:plc:zzzzzzzzzzzzzzzzzzzzzzzz/app.bsky.feed.post/3lnq4ahs7ck2d"
    reply["record"]["facets"] = []
    fake.posts = [reply]
    fake.script("app.bsky.actor.getProfiles", (400, {"error": "InvalidRequest", "message": "bad actor"}))
    (post,) = posts_of(run(source(fake)))
    assert post.kind == "reply" and post.in_reply_to_handle == ""


# ---------------------------------------------------------------- cursor and dedup


def test_the_next_run_asks_only_for_posts_since_the_newest_seen(fake):
    first = run(source(fake))
    cursor = first[-1].cursor
    newest = max(min(when(v["record"]["createdAt"]), when(v["indexedAt"])) for v in fake.posts)
    assert when(cursor["floor"]) == newest
    fake.posts = fake.posts + load("search_posts_newer.json")
    second = run(source(fake), cursor=cursor)
    assert [p.external_id for p in posts_of(second)] == [v["uri"] for v in load("search_posts_newer.json")]
    assert when(fake.calls(SEARCH)[-1]["params"]["since"][0]) == newest - OVERLAP
    third = run(source(fake), cursor=second[-1].cursor)
    assert posts_of(third) == []


def test_posts_the_overlap_brings_back_are_not_yielded_twice(fake):
    cursor = run(source(fake))[-1].cursor
    late = copy.deepcopy(fake.posts[1])
    late["uri"] = late["uri"].replace("3lnq6vwbbyk2f", "3lnq7w4nnyk2g")
    late["record"]["createdAt"] = "2025-05-14T11:40:00.000Z"  # before the floor, inside the overlap
    late["indexedAt"] = "2025-05-14T11:49:00.000Z"
    fake.posts.append(late)
    pages = run(source(fake), cursor=cursor)
    # The server sends the newest old post again (it is inside `since`); only the late one is new.
    assert fake.posts[0]["uri"] in [p["uri"] for p in _served_posts(fake)]
    assert [p.external_id for p in posts_of(pages)] == [late["uri"]]


def _served_posts(fake):
    from tests.fakes.bluesky import sort_at

    since = when(fake.calls(SEARCH)[-1]["params"]["since"][0])
    return [p for p in fake.posts if sort_at(p) >= since]


def test_a_post_served_twice_in_one_run_is_yielded_once(fake):
    fake.page_size = 3
    fake.posts = fake.posts[:4] + [copy.deepcopy(fake.posts[3])] + fake.posts[4:]
    posts = posts_of(run(source(fake)))
    assert len(posts) == 8 and len({p.external_id for p in posts}) == 8


def test_a_first_run_reads_up_to_its_page_cap_and_no_further_back(fake):
    fake.page_size = 2
    pages = run(source(fake), max_pages=2)
    assert len(pages) == 2 and pages[-1].has_more is False
    assert "next" not in pages[-1].cursor and pages[-1].cursor["floor"]


def test_an_unfinished_sweep_resumes_from_its_paging_cursor(fake):
    floor = "2025-05-14T08:00:00.000Z"
    fake.page_size = 3
    first = run(source(fake), cursor={"floor": floor}, max_pages=1)
    assert first[0].has_more and first[0].cursor["next"] and first[0].cursor["floor"] == floor
    rest = run(source(fake), cursor=first[0].cursor, max_pages=5)
    assert len(posts_of(first)) + len(posts_of(rest)) == 8
    resumed = fake.calls(SEARCH)[1]["params"]
    assert resumed["cursor"] == [first[0].cursor["next"]]
    assert resumed["since"] == fake.calls(SEARCH)[0]["params"]["since"]  # the same sweep
    assert rest[-1].cursor["floor"] == "2025-05-14T11:42:07.512Z" and "next" not in rest[-1].cursor


def test_a_changed_search_does_not_follow_the_old_paging_cursor(fake):
    fake.page_size = 3
    first = run(source(fake), cursor={"floor": "2025-05-14T08:00:00.000Z"}, max_pages=1, query="privacy")
    run(source(fake), cursor=first[0].cursor, max_pages=1, query="records")
    assert "cursor" not in fake.calls(SEARCH)[1]["params"]


def test_an_empty_result_is_one_empty_page(fake):
    fake.posts = []
    pages = run(source(fake))
    assert len(pages) == 1 and pages[0].posts == [] and pages[0].skipped == [] and not pages[0].has_more
    assert "floor" not in pages[0].cursor


def test_a_page_reports_its_requests_and_the_budget_headers(fake):
    fake.page_size = 4
    pages = run(source(fake))
    assert [page.requests for page in pages] == [2, 1]  # the sign-in, then one call a page
    assert pages[-1].rate_limit.limit == 3000 and pages[-1].rate_limit.remaining == fake.remaining


# ---------------------------------------------------------------- an OR, one part at a time

OR_QUERY = '"data protection" OR #GDPR'
SAYS_DATA_PROTECTION = ["3lnsd2xk4ps2a", "3lnscw7hnqc2b", "3lnsbzp5ofs2d"]
TAGGED_GDPR = ["3lnscw7hnqc2b", "3lnscgfl2lk2c", "3lnsbhc7d2c2e"]


@pytest.fixture
def either(fake):
    """The fake searching the text of posts about data protection, #GDPR, both or neither."""
    fake.searches_text = True
    fake.posts = load("search_posts_or.json")
    return fake


def rkeys(pages):
    return [post.external_id.rsplit("/", 1)[1] for post in posts_of(pages)]


def part_floors():
    """A cursor whose parts have both read up to 08:00 on the fixtures' day."""
    return {"parts": {part: {"floor": "2025-05-15T08:00:00.000Z"} for part in ('"data protection"', "#GDPR")}}


def test_an_or_query_runs_one_search_per_part_with_its_own_parameters(either):
    src = get_source("bluesky", credentials={"identifier": ORG_HANDLE, "app_password": APP_PASSWORD}, base_url=either.url)
    pages = list(src.pages(query=parse(OR_QUERY), cursor={}, max_pages=5))
    phrase, tag = (call["params"] for call in either.calls(SEARCH))
    assert phrase == {"q": ['"data protection"'], "sort": ["latest"], "limit": ["100"]}
    assert tag == {"q": ["GDPR"], "tag": ["GDPR"], "sort": ["latest"], "limit": ["100"]}
    assert len(pages) == 2 and pages[-1].has_more is False and pages[0].notes == []


def test_posts_both_parts_find_arrive_once(either):
    pages = run(source(either), query=OR_QUERY)
    assert sorted(rkeys(pages)) == sorted(set(SAYS_DATA_PROTECTION + TAGGED_GDPR))
    assert "3lnsaxd6k3k2f" not in rkeys(pages)  # "protection of older FOI data": neither part


def test_each_part_keeps_its_own_cursor_and_the_next_run_asks_each_only_for_newer_posts(either):
    first = run(source(either), query=OR_QUERY)
    parts = first[-1].cursor["parts"]
    assert set(parts) == {'"data protection"', "#GDPR"}
    assert parts['"data protection"']["floor"] == "2025-05-15T10:41:02.000Z"
    assert parts["#GDPR"]["floor"] == "2025-05-15T10:12:30.000Z"
    either.posts = either.posts + load("search_posts_or_newer.json")
    second = run(source(either), query=OR_QUERY, cursor=first[-1].cursor)
    # The post saying both is found by both parts and yielded once; the overlap brings nothing back.
    assert sorted(rkeys(second)) == ["3lnsepx6a7s2h", "3lnsf3kq5ws2j", "3lnsfb2dwuc2g"]
    asked = {call["params"]["q"][0]: when(call["params"]["since"][0]) for call in either.calls(SEARCH)[2:]}
    assert asked == {
        '"data protection"': when("2025-05-15T10:41:02.000Z") - OVERLAP,
        "GDPR": when("2025-05-15T10:12:30.000Z") - OVERLAP,
    }
    assert posts_of(run(source(either), query=OR_QUERY, cursor=second[-1].cursor)) == []


def test_a_run_killed_between_pages_resumes_every_part_without_gaps(either):
    either.page_size = 1
    cursor, found = part_floors(), []
    for _ in range(10):  # six runs read it all; the rest find nothing new
        (page,) = run(source(either), query=OR_QUERY, cursor=cursor, max_pages=1)  # each run stops after a page
        found += rkeys([page])
        cursor = page.cursor
    assert sorted(found) == sorted(set(SAYS_DATA_PROTECTION + TAGGED_GDPR))
    # The parts took turns, run after run, and each went on from its own paging cursor.
    asked = [call["params"]["q"][0] for call in either.calls(SEARCH)]
    assert asked[:4] == ['"data protection"', "GDPR", '"data protection"', "GDPR"]
    assert "cursor" not in either.calls(SEARCH)[1]["params"] and "cursor" in either.calls(SEARCH)[2]["params"]


def test_the_parts_share_the_runs_page_cap(either):
    either.page_size = 1
    pages = run(source(either), query=OR_QUERY, cursor=part_floors(), max_pages=50)
    assert len(pages) == len(either.calls(SEARCH)) == MAX_PAGES_PER_RUN
    assert [call["params"]["q"][0] for call in either.calls(SEARCH)] == ['"data protection"', "GDPR"] * 2 + ['"data protection"']


def test_a_part_bluesky_cannot_express_is_noted_and_the_others_still_run(either):
    pages = run(source(either), query='"data protection" OR journo* OR #GDPR')
    assert [call["params"]["q"] for call in either.calls(SEARCH)] == [['"data protection"'], ["GDPR"]]
    assert "can't express journo*" in pages[0].notes[0]
    assert sorted(rkeys(pages)) == sorted(set(SAYS_DATA_PROTECTION + TAGGED_GDPR))


# ---------------------------------------------------------------- faults


def test_a_rate_limit_waits_for_the_reset_with_no_retry(fake):
    reset = int(datetime.now(timezone.utc).timestamp()) + 240
    fake.script(SEARCH, (429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                         {"RateLimit-Limit": "3000", "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)}))
    with pytest.raises(RateLimited) as limited:
        run(source(fake))
    assert limited.value.retry_at == datetime.fromtimestamp(reset, tz=timezone.utc)
    assert limited.value.rate_limit.remaining == 0
    assert len(fake.calls(SEARCH)) == 1


def test_a_rate_limited_sign_in_is_a_rate_limit_not_bad_credentials(fake):
    reset = int(datetime.now(timezone.utc).timestamp()) + 3600
    fake.script(CREATE, (429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                         {"RateLimit-Limit": "30", "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)}))
    with pytest.raises(RateLimited) as limited:
        run(source(fake))
    assert limited.value.retry_at == datetime.fromtimestamp(reset, tz=timezone.utc)
    assert len(fake.calls(CREATE)) == 1 and fake.calls(SEARCH) == []


def test_server_errors_are_retried_with_backoff_then_the_page_is_read(fake):
    fake.script(SEARCH, (502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"}),
                (503, {"error": "InternalServerError", "message": "Internal Server Error"}))
    sleeps = []
    pages = run(quiet_source(fake, sleeps))
    assert len(posts_of(pages)) == 8
    assert len(fake.calls(SEARCH)) == 3 and len(sleeps) == 2


def test_server_errors_that_outlast_the_retries_fail_the_run(fake):
    fake.script(SEARCH, *[(500, {"error": "InternalServerError", "message": "Internal Server Error"})] * 6)
    with pytest.raises(PlatformUnavailable, match="4 attempts"):
        run(quiet_source(fake))
    assert len(fake.calls(SEARCH)) == 4


def test_malformed_items_are_skipped_and_recorded_and_the_rest_stored(fake):
    fake.posts = load("malformed_posts.json")
    (page,) = run(source(fake))
    assert [p.external_id.rsplit("/", 1)[1] for p in page.posts] == ["3lnq9mlfgtk2u"]
    reasons = "\n".join(page.skipped)
    assert len(page.skipped) == 6
    for expected in ("fall outside the 33-byte text", "split a character", "createdAt", "no post record",
                     "text is not a string", "not an object"):
        assert expected in reasons


@pytest.mark.parametrize(
    "body, headers",
    [
        (b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>", {"Content-Type": "text/html"}),
        (b'{"posts": [{"uri": "at://did:plc:abc/app.bsky.feed.post/1", "reco', {}),
        ({"posts": "none today"}, {}),
        ([1, 2, 3], {}),
    ],
    ids=["html-error-page", "truncated-json", "posts-not-a-list", "not-an-object"],
)
def test_a_malformed_page_fails_the_run_and_yields_nothing(fake, body, headers):
    fake.script(SEARCH, (200, body, headers))
    pages = []
    with pytest.raises(MalformedPage):
        for page in source(fake).pages(query=parse("privacy"), cursor={"floor": "2025-05-14T08:00:00.000Z"}, max_pages=5):
            pages.append(page)
    assert pages == []


def test_a_refused_app_password_is_bad_credentials_with_the_platform_message(fake):
    src = source(fake, credentials={"identifier": ORG_HANDLE, "app_password": "wrong-pass-word-0000"})
    with pytest.raises(BadCredentials, match="Invalid identifier or password"):
        run(src)
    assert fake.calls(SEARCH) == [] and len(fake.calls(CREATE)) == 1


def test_missing_credentials_are_bad_credentials_without_a_request(fake):
    with pytest.raises(BadCredentials, match="app password"):
        run(source(fake, credentials={}))
    assert fake.requests == []


# ---------------------------------------------------------------- sessions


def test_the_session_is_shared_between_runs(fake):
    run(source(fake))
    run(source(fake))
    assert len(fake.calls(CREATE)) == 1
    tokens = {c["headers"]["Authorization"] for c in fake.calls(SEARCH)}
    assert len(tokens) == 1


def test_the_app_password_is_never_kept_in_the_cache(fake):
    src = source(fake)
    run(src)
    cached = cache.get(src._cache_key)
    assert cached["did"] == ORG_DID and cached["handle"] == ORG_HANDLE
    assert APP_PASSWORD not in repr(cached) and "password" not in repr(cached)


def test_an_expired_access_token_is_refreshed_once_not_signed_in_again(fake):
    run(source(fake))
    fake.expire_access_tokens()
    pages = run(source(fake))
    assert len(posts_of(pages)) == 8
    assert len(fake.calls(REFRESH)) == 1 and len(fake.calls(CREATE)) == 1
    run(source(fake))  # the refreshed session was kept
    assert len(fake.calls(REFRESH)) == 1 and len(fake.calls(CREATE)) == 1


def test_a_spent_refresh_token_leads_to_one_new_sign_in(fake):
    run(source(fake))
    fake.expire_access_tokens()
    fake.refresh_tokens.clear()
    assert len(posts_of(run(source(fake)))) == 8
    assert len(fake.calls(REFRESH)) == 1 and len(fake.calls(CREATE)) == 2


def test_a_revoked_cached_session_signs_in_once_more(fake):
    run(source(fake))
    fake.access_tokens.clear()  # the app password's sessions were revoked
    assert len(posts_of(run(source(fake)))) == 8
    assert len(fake.calls(CREATE)) == 2


def test_a_session_refused_just_after_signing_in_is_bad_credentials(fake):
    fake.script(SEARCH, (401, {"error": "AuthenticationRequired", "message": "Account has been suspended"}))
    with pytest.raises(BadCredentials, match="suspended"):
        run(source(fake))
    assert len(fake.calls(CREATE)) == 1


def test_check_connection_reports_the_signed_in_account(fake):
    assert source(fake).check_connection() == f"Signed in to Bluesky as @{ORG_HANDLE}."
    with pytest.raises(BadCredentials, match="Invalid identifier or password"):
        BlueskySource(credentials={"identifier": "someone-else.bsky.social", "app_password": "x"}, base_url=fake.url).check_connection()


# ---------------------------------------------------------------- the notifications channel


def test_the_notifications_channel_yields_mentions_replies_and_quotes(fake):
    pages = run(source(fake), channel="notifications")
    posts = posts_of(pages)
    assert [p.external_id.rsplit("/", 1)[1] for p in posts] == ["3lnqc4kd2ss2a", "3lnqbzw7n3c2c", "3lnqbxj5e2k2d", "3lnqbs3yqqk2f"]
    mention, reply, quote, _ = posts
    assert mention.mentions == (ORG_HANDLE,) and mention.author_handle == "jane-foi.bsky.social"
    assert reply.kind == "reply" and reply.in_reply_to_handle == ORG_HANDLE
    assert quote.kind == "quote"
    params = fake.calls(NOTIFICATIONS)[0]["params"]
    assert params["reasons"] == ["mention", "reply", "quote"]
    assert pages[-1].cursor["floor"] == "2025-05-14T12:40:10.800Z"


def test_notifications_of_other_kinds_are_left_out_even_if_the_server_sends_them(fake):
    fake.filters_reasons = False
    posts = posts_of(run(source(fake), channel="notifications"))
    assert len(posts) == 4 and all(p.external_id.split("/")[3] == "app.bsky.feed.post" for p in posts)


def test_the_notifications_channel_stops_paging_at_what_it_has_read(fake):
    fake.page_size = 2
    cursor = run(source(fake), channel="notifications")[-1].cursor
    before = len(fake.calls(NOTIFICATIONS))
    fresh = copy.deepcopy(fake.notifications[0])
    fresh["uri"] = fresh["uri"].replace("3lnqc4kd2ss2a", "3lnqd7wq2ak2g")
    fresh["indexedAt"] = "2025-05-14T13:02:00.000Z"
    fake.notifications.insert(0, fresh)
    pages = run(source(fake), channel="notifications", cursor=cursor)
    assert [p.external_id for p in posts_of(pages)] == [fresh["uri"]]
    # The first page already reaches notifications read last time: no second request.
    assert len(fake.calls(NOTIFICATIONS)) - before == 1
    assert pages[-1].cursor["floor"] == "2025-05-14T13:02:00.000Z"


def test_only_the_notifications_channel_is_understood(fake):
    assert BlueskySource.channel_error("notifications") == ""
    assert "notifications" in BlueskySource.channel_error("#gdpr")
    with pytest.raises(HarvestError):
        run(source(fake), channel="mentions")


# ---------------------------------------------------------------- through a harvest run


def test_a_harvest_run_stores_the_matching_posts_once(fake, communications):
    from django.utils import timezone

    from listening import services
    from listening.models import HarvestRun, Mention, SavedSearch, SavedSearchPlatform

    search = SavedSearch.objects.create(team=communications, name="FOI on Bluesky", query="FOI")
    state = SavedSearchPlatform.objects.create(saved_search=search, platform="bluesky", next_run_at=timezone.now())
    fake.page_size = 3
    for _ in range(2):
        SavedSearchPlatform.objects.filter(pk=state.pk).update(next_run_at=timezone.now())
        services.harvest_run(state_id=state.pk, token=services.harvest_claim(state_id=state.pk), max_pages=5, source=source(fake))
    runs = list(HarvestRun.objects.order_by("pk"))
    assert [run.status for run in runs] == ["ok", "ok"] and runs[1].fetched == 0
    stored = {m.external_id.rsplit("/", 1)[1]: m for m in Mention.objects.all()}
    # The Welsh post matches through the bare address "northmoor.gov.uk/foi-log" in its text.
    assert set(stored) == {"3lnq6k5fwcs2b", "3lnq2pqlaus2m", "3lnq7x2kz4c2a"}
    reply = stored["3lnq6k5fwcs2b"]
    assert reply.url == "https://bsky.app/profile/northmoor-council.bsky.social/post/3lnq6k5fwcs2b"
    assert reply.in_reply_to_handle == "jane-foi.bsky.social" and reply.kind == "reply"
