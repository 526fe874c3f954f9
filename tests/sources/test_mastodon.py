"""The Mastodon source against a fake instance on a local socket (tests/fakes/mastodon.py),
and the HTML-to-text conversion its posts go through."""

import copy
from datetime import datetime, timedelta, timezone

import pytest

from listening.query import QueryNotSupported, parse
from listening.sources import get_source
from listening.sources.base import BadCredentials, MalformedPage, PlatformUnavailable, RateLimited
from listening.sources.mastodon import NO_SEARCH_NOTE, MastodonSource, link_ids, needs_hashtag, query_hashtags
from listening.sources.text import html_to_text
from tests.fakes.mastodon import NOTIFICATIONS, SEARCH, TAG, VERIFY, FakeMastodon, fixture
from tests.fakes.server import FakeServer, Reply

pytestmark = pytest.mark.timeout(60)

TOKEN = "test-access-token"
QUERY = parse('"data protection" OR #GDPR')
SAR = "https://ico.org.uk/for-organisations/uk-gdpr-guidance-and-resources/subject-access-requests/"
# Statuses in tests/fixtures/mastodon/statuses.json
GUIDANCE, REPLY, WELSH, JOURNO, REBLOG, FOI, TO_ORG, REPLY_TO_PRIYA, GERMAN, ORG_OWN = (
    "112371018456123401",
    "112371033901234402",
    "112371210987654403",
    "112371456789012404",
    "112371502345678405",
    "112371678901234406",
    "112371734567890407",
    "112371790123456408",
    "112371845678901409",
    "112371901234567410",
)
GDPR_TAGGED = [GERMAN, TO_ORG, WELSH, REPLY, GUIDANCE]  # newest first
SAYS_DATA_PROTECTION = [ORG_OWN, REPLY_TO_PRIYA, JOURNO, REPLY]


@pytest.fixture
def fake():
    with FakeServer() as server:
        yield FakeMastodon(server, access_token=TOKEN)


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def source(fake, sleeps):
    return make_source(fake, sleeps)


def make_source(fake, sleeps=None, **kwargs) -> MastodonSource:
    credentials = kwargs.pop("credentials", {"access_token": TOKEN})
    return MastodonSource(credentials=credentials, base_url=fake.url, sleep=(sleeps if sleeps is not None else []).append, **kwargs)


def run(source, cursor=None, max_pages=10, **kwargs):
    if "channel" not in kwargs:
        kwargs.setdefault("query", QUERY)
    return list(source.pages(cursor=cursor or {}, max_pages=max_pages, **kwargs))


def ids(pages) -> list[str]:
    return [post.external_id for page in pages for post in page.posts]


def by_id(pages) -> dict:
    return {post.external_id: post for page in pages for post in page.posts}


def status(fake, status_id) -> dict:
    return copy.deepcopy(fake.statuses[status_id])


# --------------------------------------------------------------------------- normalising


def test_it_turns_html_statuses_into_plain_text_posts_with_their_links(fake, source):
    posts = by_id(run(source, channel="#GDPR"))
    guidance = posts[GUIDANCE]
    assert guidance.platform == "mastodon"
    assert guidance.text == (
        "New #GDPR guidance from the ICO on subject access requests for employers, including searching staff messaging apps: " + SAR
    )
    assert guidance.links == (SAR,)  # the hashtag's link to the tag page is not one of the post's links
    assert guidance.author_handle == "dataprotectionjo" and guidance.author_name == "Jo Evans 🔐"
    assert guidance.url == f"https://mastodon.social/@dataprotectionjo/{GUIDANCE}"
    assert guidance.created_at == datetime(2024, 5, 2, 8, 40, 12, tzinfo=timezone.utc)
    assert guidance.lang == "en" and guidance.kind == "post"
    assert guidance.raw == fake.statuses[GUIDANCE]

    reply = posts[REPLY]
    assert reply.kind == "reply"
    assert reply.author_handle == "foi_fiona@mastodon.scot"  # remote accounts keep their instance
    assert reply.in_reply_to_handle == "dataprotectionjo"
    assert reply.mentions == ("dataprotectionjo",)
    assert reply.text.startswith("@dataprotectionjo Does it say anything about data protection")

    welsh = posts[WELSH]
    assert welsh.lang == "cy"
    assert welsh.text == (
        "Rydym wedi diweddaru ein hysbysiad preifatrwydd ar gyfer ceisiadau cynllunio. #DiogeluData #GDPR\n\n"
        "Darllenwch fwy: https://www.caerdydd.gov.uk/CY/Preifatrwydd/"
    )
    assert posts[GERMAN].text.startswith("Bußgeld in Großbritannien")
    assert posts[GERMAN].links == ("https://www.heise.de/news/ico-bussgeld-2024.html",)
    assert all("<" not in post.text for post in posts.values())


def test_the_query_matches_what_the_html_said(source):
    posts = by_id(run(source))
    assert QUERY.matches(posts[GUIDANCE])  # #GDPR
    assert QUERY.matches(posts[JOURNO])  # "data protection"
    assert parse("links:ico.org.uk").matches(posts[GUIDANCE])
    assert parse("@dataprotectionjo").matches(posts[REPLY])
    assert parse("to:dataprotectionjo").matches(posts[REPLY])


def test_a_content_warning_leads_the_text_and_entities_are_decoded(fake, source):
    post = by_id(run(source, channel="#FOI"))[FOI]
    assert post.text == "FOI moan\n\nDay 45 waiting on an FOI response from the trust. The statutory limit is 20 working days & counting… 🙄 #FOI"


def test_a_mail_link_is_not_a_link_of_the_post(source):
    post = by_id(run(source, channel="#journorequest"))[JOURNO]
    assert post.links == ()
    assert post.text.endswith("DMs open, or email tom@example.org")


def test_a_reblog_is_the_rebloggers_repost_of_the_original(fake, source):
    fake.server.script("GET", TAG, Reply.json([status(fake, REBLOG)]))
    post = run(source, channel="#GDPR")[0].posts[0]
    assert post.external_id == REBLOG
    assert post.kind == "repost"
    assert post.referenced_id == status(fake, REBLOG)["reblog"]["id"] != REBLOG
    assert post.author_handle == "privacy_priya@infosec.exchange"
    assert post.text.startswith("New #GDPR guidance from the ICO")
    assert post.links == (SAR,)
    assert post.url == f"https://mastodon.social/@dataprotectionjo/{GUIDANCE}"


def test_a_status_quoting_another_is_a_quote(fake, source):
    quoting = status(fake, JOURNO)
    quoting["quote"] = {"state": "accepted", "quoted_status": status(fake, GUIDANCE)}
    fake.server.script("GET", TAG, Reply.json([quoting]))
    post = run(source, channel="#journorequest")[0].posts[0]
    assert post.kind == "quote" and post.referenced_id == GUIDANCE


def test_a_reply_in_ones_own_thread_is_a_reply_to_oneself(fake, source):
    thread = status(fake, FOI)
    thread.update(in_reply_to_id=GUIDANCE, in_reply_to_account_id=thread["account"]["id"])
    fake.server.script("GET", TAG, Reply.json([thread]))
    post = run(source, channel="#FOI")[0].posts[0]
    assert post.kind == "reply" and post.in_reply_to_handle == "dataprotectionjo"


# --------------------------------------------------------------------------- HTML to text


@pytest.mark.parametrize(
    "markup, text, links",
    [
        ('<p>See <a href="https://www.gov.uk/foi">the FOI guidance</a>.</p>', "See the FOI guidance (https://www.gov.uk/foi).", ["https://www.gov.uk/foi"]),
        (
            '<p><a href="https://ico.org.uk/about-the-ico/" rel="nofollow"><span class="invisible">https://</span>'
            '<span class="ellipsis">ico.org.uk/about-th</span><span class="invisible">e-ico/</span></a></p>',
            "https://ico.org.uk/about-the-ico/",
            ["https://ico.org.uk/about-the-ico/"],
        ),
        ('<a href="https://ico.org.uk/">ico.org.uk</a>', "https://ico.org.uk/", ["https://ico.org.uk/"]),
        ('<span class="h-card"><a href="https://x.social/@jane" class="u-url mention">@<span>jane</span></a></span> hi', "@jane hi", []),
        ('<a href="https://x.social/tags/FOI" class="mention hashtag" rel="tag">#<span>FOI</span></a>', "#FOI", []),
        ("<p>one</p><p>two<br>three</p>", "one\n\ntwo\nthree", []),
        ("&lt;b&gt;not bold&lt;/b&gt; &amp; &#x1F600;", "<b>not bold</b> & 😀", []),
        ("<p>3 < 4 and <b>bold</b></p>", "3 < 4 and bold", []),
        ('<a href="javascript:alert(1)">click</a>', "click", []),
        ("<p>before</p><script>alert('<p>x</p>')</script><style>p{}</style><p>after</p>", "before\n\nafter", []),
        ("<!-- hidden --><p>shown</p>", "shown", []),
        ('<p>open <a href="https://example.org/x">link', "open link (https://example.org/x)", ["https://example.org/x"]),
        ("<p>   spaced\t\tout   </p>", "spaced out", []),
        ("", "", []),
    ],
)
def test_html_to_text(markup, text, links):
    assert html_to_text(markup) == (text, links)


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    "hostile",
    [
        "<div>" * 100_000 + "x" + "</div>" * 100_000,
        "<" * 200_000,
        "<" * 100_000 + ">",
        "&" * 200_000,
        "&#" * 100_000,
        "<!--" * 50_000,
        '<a href="' * 50_000,
        "<a " + 'b="' * 100_000 + ">",
        "<a <a <a " * 30_000 + ">",
        '<a href="https://x.org/">' * 20_000,
        "<script>" * 50_000,
    ],
)
def test_html_to_text_reads_hostile_markup_in_one_pass(hostile):
    text, links = html_to_text(hostile)  # the timeout is the guard: a quadratic reader takes minutes
    assert isinstance(text, str) and len(links) <= 100


# --------------------------------------------------------------------------- channels, paging and cursors


def test_a_hashtag_channel_first_reads_the_newest_page_then_moves_forward_by_min_id(fake, sleeps):
    source = make_source(fake, sleeps, page_size=2)
    first = run(source, channel="#GDPR")
    assert ids(first) == GDPR_TAGGED[:2]
    assert first[-1].cursor == {"streams": {"tag:gdpr": {"min_id": GERMAN}}}
    new = [fake.add_status(f"GDPR update {n}", tags=["GDPR"]) for n in range(5)]
    fake.add_status("Nothing tagged")
    second = run(source, channel="#GDPR", cursor=first[-1].cursor)
    assert [ids([page]) for page in second] == [[new[1]["id"], new[0]["id"]], [new[3]["id"], new[2]["id"]], [new[4]["id"]]]
    assert [page.cursor["streams"]["tag:gdpr"]["min_id"] for page in second] == [new[1]["id"], new[3]["id"], new[4]["id"]]
    assert [request.arg("min_id") for request in fake.server.requests(TAG)[1:]] == [GERMAN, new[1]["id"], new[3]["id"]]


def test_the_link_header_gives_ids_only_and_is_never_followed(fake, source):
    fake.add_statuses(3, tags=["GDPR"])
    run(source, channel="#GDPR", cursor={"streams": {"tag:gdpr": {"min_id": GUIDANCE}}})
    requests = fake.server.requests(TAG)
    assert len(requests) == 1  # the fake's Link says https://mastodon.social: nothing went there
    assert link_ids(
        '<https://mastodon.social/api/v1/timelines/tag/GDPR?max_id=7>; rel="next", '
        '<https://evil.example/api/v1/timelines/tag/GDPR?min_id=9&access_token=x>; rel="prev"'
    ) == {"next": {"max_id": "7"}, "prev": {"min_id": "9"}}
    assert link_ids("nonsense, <>; rel=, ;") == {}


def test_a_hashtag_channel_stopped_midway_resumes_with_no_gap(fake, sleeps):
    source = make_source(fake, sleeps, page_size=2)
    start = run(source, channel="#GDPR")[-1].cursor
    new = [fake.add_status(f"GDPR update {n}", tags=["GDPR"])["id"] for n in range(5)]
    stopped = run(source, channel="#GDPR", cursor=start, max_pages=1)
    resumed = run(source, channel="#GDPR", cursor=stopped[-1].cursor)
    seen = ids(stopped) + ids(resumed)
    assert sorted(seen) == sorted(new) and len(seen) == len(set(seen))


def test_search_pages_back_and_moves_min_id_only_after_the_last_page(fake, sleeps):
    source = make_source(fake, sleeps, page_size=2)
    pages = run(source, query=parse('"data protection"'))
    assert ids(pages) == SAYS_DATA_PROTECTION
    streams = [page.cursor["streams"]['search:"data protection"'] for page in pages]
    assert streams == [
        {"max_id": REPLY_TO_PRIYA, "pending_min_id": ORG_OWN},
        {"max_id": REPLY, "pending_min_id": ORG_OWN},
        {"min_id": ORG_OWN},
    ]
    new = fake.add_status("Is the data protection fee going up?")
    again = run(source, query=parse('"data protection"'), cursor=pages[-1].cursor)
    assert ids(again) == [new["id"]]
    searches = [request for request in fake.server.requests(SEARCH) if request.arg("q") != "from:me"]
    assert searches[-1].arg("min_id") == ORG_OWN and searches[-1].arg("resolve") == "false"
    assert searches[-1].arg("type") == "statuses"


def test_a_search_stopped_midway_resumes_with_no_gap(fake, sleeps):
    source = make_source(fake, sleeps, page_size=2)
    stopped = run(source, query=parse('"data protection"'), max_pages=1)
    arrived = fake.add_status("More data protection news")
    resumed = run(source, query=parse('"data protection"'), cursor=stopped[-1].cursor)
    later = run(source, query=parse('"data protection"'), cursor=resumed[-1].cursor)
    seen = ids(stopped) + ids(resumed) + ids(later)
    assert len(seen) == len(set(seen))
    assert set(seen) == set(SAYS_DATA_PROTECTION) | {arrived["id"]}
    assert ids(later) == [arrived["id"]]


def test_a_query_reads_its_hashtag_timelines_and_its_search_without_repeating_a_post(fake, source):
    pages = run(source)
    seen = ids(pages)
    assert len(seen) == len(set(seen))
    assert set(seen) == set(GDPR_TAGGED) | set(SAYS_DATA_PROTECTION)  # REPLY is in both: once
    paths = {request.path for request in fake.server.requests()}
    assert "/api/v1/timelines/tag/GDPR" in paths
    assert any(request.arg("q") == '"data protection"' for request in fake.server.requests(SEARCH))
    assert pages[0].requests == 2  # the search check, then the first page


def test_the_streams_take_turns_and_the_next_run_starts_with_another(fake, sleeps):
    source = make_source(fake, sleeps, page_size=1)
    query = parse("#GDPR OR #FOI OR #journorequest")
    first = run(source, query=query, max_pages=3)
    assert [request.path.rsplit("/", 1)[1] for request in fake.server.requests(TAG)] == ["GDPR", "FOI", "journorequest"]
    run(source, query=query, cursor=first[-1].cursor, max_pages=1)
    assert fake.server.requests(TAG)[-1].path.endswith("/FOI")


def test_a_query_needing_a_hashtag_reads_only_timelines(fake, source):
    run(source, query=parse("#GDPR guidance"))
    assert fake.server.requests(SEARCH) == []
    assert [request.path for request in fake.server.requests(TAG)] == ["/api/v1/timelines/tag/GDPR"]


def test_an_instance_without_full_text_search_reads_hashtag_timelines_and_says_so(fake, source):
    fake.full_text = False
    pages = run(source)
    assert set(ids(pages)) == set(GDPR_TAGGED)
    assert all(page.notes == [NO_SEARCH_NOTE] for page in pages)
    assert pages[-1].cursor["search_check"]["available"] is False
    asked = [request.arg("q") for request in fake.server.requests(SEARCH)]
    assert asked == ["from:me", '"data protection"']  # the check, then one search that finds nothing
    assert len(fake.server.requests(VERIFY)) == 1
    again = run(source, cursor=pages[-1].cursor)
    assert NO_SEARCH_NOTE in again[0].notes
    asked = [request.arg("q") for request in fake.server.requests(SEARCH)]
    assert asked.count("from:me") == 1  # the check's answer is kept for a day


def test_a_server_the_check_misreads_is_put_right_by_its_first_search(fake, source):
    fake.server.script("GET", SEARCH, Reply.json({"accounts": [], "statuses": [], "hashtags": []}))  # no from: operator
    pages = run(source, query=parse('"data protection"'))
    assert set(ids(pages)) == set(SAYS_DATA_PROTECTION)
    assert pages[-1].notes == []
    assert pages[-1].cursor["search_check"]["available"] is True


def test_full_text_search_is_checked_again_after_a_day(fake, sleeps):
    day_later = datetime.now(timezone.utc) + timedelta(hours=25)
    fake.full_text = False
    source = make_source(fake, sleeps)
    cursor = run(source)[-1].cursor
    fake.full_text = True
    later = make_source(fake, sleeps, now=lambda: day_later)
    pages = run(later, cursor=cursor)
    assert NO_SEARCH_NOTE not in pages[0].notes
    assert pages[-1].cursor["search_check"]["available"] is True
    assert set(SAYS_DATA_PROTECTION) <= set(ids(pages))


def test_an_account_that_never_posted_cannot_show_search_is_missing(fake, source):
    fake.full_text = False
    fake.accounts[fake.me]["statuses_count"] = 0
    pages = run(source)
    assert pages[-1].cursor["search_check"]["available"] is True
    assert any(request.arg("q") == '"data protection"' for request in fake.server.requests(SEARCH))


def test_without_full_text_search_a_query_with_no_hashtag_says_nothing_can_be_read(fake, source):
    fake.full_text = False
    pages = run(source, query=parse('"data protection"'))
    assert ids(pages) == []
    assert pages[0].notes[0] == NO_SEARCH_NOTE and "names no hashtag" in pages[0].notes[1]


def test_a_part_mastodon_cannot_search_is_named_on_the_page(fake, source):
    pages = run(source, query=parse('"data protection" OR journo*'))
    assert "journo*" in pages[0].notes[0]
    assert set(ids(pages)) == set(SAYS_DATA_PROTECTION)


def test_a_query_with_nothing_mastodon_can_fetch_fails_before_any_request(fake, source):
    with pytest.raises(QueryNotSupported):
        run(source, query=parse("journo*"))
    assert fake.server.requests() == []


def test_the_hashtags_a_query_names():
    assert query_hashtags(parse('(#GDPR OR ("data protection" #privacy)) -#spam').root) == ["GDPR", "privacy"]
    assert query_hashtags(parse('"#privacy matters" OR #data*').root) == ["privacy"]
    assert needs_hashtag(parse("#GDPR guidance").root)
    assert needs_hashtag(parse("#GDPR OR #privacy").root)
    assert not needs_hashtag(parse("#GDPR OR privacy").root)
    assert not needs_hashtag(parse("privacy -#GDPR").root)


def test_at_most_ten_hashtag_timelines_are_read(fake, source):
    tags = " OR ".join(f"#tag{n}" for n in range(12))
    pages = run(source, query=parse(tags), max_pages=20)
    assert len(fake.server.requests(TAG)) == 10
    assert "only the first 10 of the search's 12 hashtags" in pages[0].notes[0]


def test_the_notifications_channel_reads_mentions_of_the_organisation(fake, source):
    first = run(source, channel="notifications")
    assert ids(first) == [REPLY_TO_PRIYA, TO_ORG]  # not the favourite, not the follow
    assert fake.server.requests(NOTIFICATIONS)[0].query["types[]"] == ["mention"]
    assert first[-1].cursor == {"streams": {"notifications": {"min_id": "34975870"}}}
    new = fake.add_status("When is the next FOI stats release?", mentions=[fake.me])
    fake.add_status("Not about the Commissioner")
    second = run(source, channel="notifications", cursor=first[-1].cursor)
    assert ids(second) == [new["id"]]
    assert fake.server.requests(NOTIFICATIONS)[-1].arg("min_id") == "34975870"


def test_a_mention_notification_without_its_status_is_skipped_and_recorded(fake, source):
    broken = {"id": "34980001", "type": "mention", "created_at": "2024-05-02T13:00:00.000Z", "account": fake.accounts[fake.me]}
    fake.server.script("GET", NOTIFICATIONS, Reply.json([broken, fixture("notifications.json")[0]]))
    page = run(source, channel="notifications")[0]
    assert ids([page]) == [REPLY_TO_PRIYA]
    assert page.skipped == ["notification 34980001: a mention without its status"]
    assert page.cursor == {"streams": {"notifications": {"min_id": "34980001"}}}


@pytest.mark.parametrize("channel, valid", [("notifications", True), ("#GDPR", True), ("#Diogelu_Data", True), ("#", False), ("#no spaces", False), ("GDPR", False)])
def test_channel_strings(channel, valid):
    assert (MastodonSource.channel_error(channel) == "") is valid


def test_an_empty_timeline_is_one_empty_page(fake, source):
    pages = run(source, channel="#nothinghere")
    assert len(pages) == 1 and pages[0].posts == [] and pages[0].skipped == []
    assert pages[0].cursor == {"streams": {}}
    cursor = {"streams": {"tag:gdpr": {"min_id": GERMAN}}}
    assert run(source, channel="#GDPR", cursor=cursor)[0].cursor == cursor


def test_an_empty_search_is_an_empty_page(fake, source):
    pages = run(source, query=parse('"nobody says this"'))
    assert ids(pages) == [] and len(pages) == 1


# --------------------------------------------------------------------------- faults


def test_a_rate_limit_raises_with_the_iso_reset_after_one_request(fake, source, sleeps):
    reset = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=4)
    fake.server.script("GET", TAG, fake.rate_limit_reply(reset))
    with pytest.raises(RateLimited, match="Too many requests") as caught:
        run(source, channel="#GDPR")
    assert caught.value.retry_at == reset
    assert caught.value.rate_limit.remaining == 0 and caught.value.rate_limit.limit == 300
    assert len(fake.server.requests(TAG)) == 1 and sleeps == []


def test_each_page_reports_the_budget_the_instance_gave(fake, source):
    page = run(source, channel="#GDPR")[0]
    assert page.rate_limit.limit == 300 and page.rate_limit.remaining == 299
    assert page.rate_limit.reset_at == fake.reset


def test_server_errors_are_retried_with_backoff_then_the_page_is_read(fake, source, sleeps):
    fake.server.script("GET", TAG, Reply.html(fixture("bad_gateway.html"), status=502), Reply(status=503))
    pages = run(source, channel="#GDPR")
    assert ids(pages) == GDPR_TAGGED
    assert len(sleeps) == 2 and pages[0].requests == 3


def test_server_errors_that_persist_fail_the_run_after_bounded_retries(fake, source, sleeps):
    fake.server.script("GET", TAG, *[Reply.html(fixture("bad_gateway.html"), status=502)] * 6)
    with pytest.raises(PlatformUnavailable, match="4 attempts"):
        run(source, channel="#GDPR")
    assert len(fake.server.requests(TAG)) == 4 and len(sleeps) == 3


def test_malformed_statuses_are_skipped_and_recorded_and_the_rest_is_kept(fake, source):
    fake.server.script("GET", TAG, Reply.json(fixture("malformed_items.json")))
    page = run(source, channel="#GDPR")[0]
    assert ids([page]) == ["112372000000000001", "112372000000000008"]
    assert page.posts[1].links == ("https://ico.org.uk/action-weve-taken/decision-notices/",)
    reasons = " | ".join(page.skipped)
    assert len(page.skipped) == 6
    assert "status 112372000000000002: it has no account" in reasons
    assert "status 112372000000000003: created_at 'not a date' is not a time" in reasons
    assert "status 112372000000000004: content is dict, not text" in reasons
    assert "status 112372000000000005: mentions is not a list of objects" in reasons
    assert "id 'None' is not a Mastodon id" in reasons
    assert "an item that is str, not a status" in reasons
    assert page.read == 8


@pytest.mark.parametrize(
    "reply, message",
    [
        (Reply.raw('[{"id": "1", "content": "<p>cut'), "invalid JSON"),
        (Reply.html(fixture("bad_gateway.html")), "an HTML page"),
        (Reply.json([{"id": "112390000000000000", "content": "<p>x</p>"}] * 40, truncate_at=500), "truncated"),
        (Reply.json({"error": "This method requires an authenticated user"}), "not a list"),
    ],
)
def test_a_malformed_page_fails_the_run_and_leaves_the_cursor(fake, sleeps, reply, message):
    source = make_source(fake, sleeps, page_size=2)
    start = run(source, channel="#GDPR")[-1].cursor
    fake.add_statuses(5, tags=["GDPR"])
    pages = source.pages(channel="#GDPR", cursor=start, max_pages=5)
    first = next(pages)
    fake.server.script("GET", TAG, reply)
    with pytest.raises(MalformedPage, match=message):
        next(pages)
    assert first.cursor != start  # what would be stored is the first page's cursor, and no more
    assert sleeps == []


def test_a_malformed_search_answer_fails_the_run(fake, source):
    fake.server.script("GET", SEARCH, Reply.json({"statuses": [{"id": "1"}]}), Reply.json({"statuses": "none"}))
    with pytest.raises(MalformedPage, match="not a search result"):
        run(source, query=parse('"data protection"'))


def test_a_refused_access_token_is_bad_credentials(fake, sleeps):
    source = make_source(fake, sleeps, credentials={"access_token": "revoked"})
    with pytest.raises(BadCredentials, match=r"authentication failed \(401\): The access token is invalid"):
        run(source, channel="#GDPR")
    assert len(fake.server.requests(TAG)) == 1 and sleeps == []


def test_a_token_without_the_scope_is_bad_credentials(fake, source):
    fake.server.script("GET", NOTIFICATIONS, Reply.json(fixture("forbidden.json"), status=403))
    with pytest.raises(BadCredentials, match=r"\(403\): This action is outside the authorized scopes"):
        run(source, channel="notifications")


def test_a_refused_token_during_the_search_check_is_bad_credentials(fake, sleeps):
    with pytest.raises(BadCredentials):
        run(make_source(fake, sleeps, credentials={"access_token": "revoked"}), query=parse('"data protection"'))


def test_a_missing_access_token_is_bad_credentials_without_a_request(fake, sleeps):
    with pytest.raises(BadCredentials, match="no access_token"):
        run(make_source(fake, sleeps, credentials={}), channel="#GDPR")
    assert fake.server.requests() == []


# --------------------------------------------------------------------------- connection check and the stable interface


def test_check_connection_names_the_account_and_whether_search_works(fake, source):
    message = source.check_connection()
    assert "@InfoCommissioner" in message and "Full-text search: available" in message
    fake.full_text = False
    assert "Full-text search: not available" in source.check_connection()


def test_check_connection_reports_the_instances_refusal(fake, sleeps):
    with pytest.raises(BadCredentials, match="The access token is invalid"):
        make_source(fake, sleeps, credentials={"access_token": "nope"}).check_connection()


def test_get_source_reads_mastodon_through_the_stable_interface():
    with FakeServer() as server:
        fake = FakeMastodon(server, access_token="t")
        source = get_source("mastodon", credentials={"access_token": "t"}, base_url=fake.url)
        pages = list(source.pages(query=parse('"data protection" OR #GDPR'), cursor={}, max_pages=5))
        assert set(ids(pages)) == set(GDPR_TAGGED) | set(SAYS_DATA_PROTECTION)
        channel = list(source.pages(channel="notifications", cursor={}, max_pages=5))
        assert ids(channel) == [REPLY_TO_PRIYA, TO_ORG]
