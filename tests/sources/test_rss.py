"""The news-feed source against a fake web server on a real socket."""

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from listening.query import parse
from listening.sources import HarvestError, MalformedPage, PlatformUnavailable, RateLimited, get_source
from listening.sources.rss import FeedSource, html_to_text
from tests.fakes.feeds import FakeFeeds, load

pytestmark = pytest.mark.timeout(60)

PATH = "/news/rss.xml"


@pytest.fixture
def fake():
    with FakeFeeds() as server:
        server.serve(PATH, load("northmoor_news_rss2.xml"), etag='"nmc-41"', last_modified="Wed, 14 May 2025 11:05:00 GMT")
        yield server


def source():
    return get_source("rss", credentials={}, base_url=None)


def quiet_source(sleeps=None):
    return FeedSource(sleep=sleeps.append if sleeps is not None else lambda s: None)


def read(fake, path=PATH, cursor=None, src=None):
    return list((src or source()).pages(channel=fake.url_for(path), cursor=cursor or {}, max_pages=1))


def by_title(page):
    return {post.title: post for post in page.posts}


# ---------------------------------------------------------------- the three formats


def test_it_reads_an_rss2_feed(fake):
    (page,) = read(fake)
    assert len(page.posts) == 3 and page.skipped == [] and page.has_more is False
    post = by_title(page)["Council publishes its FOI disclosure log for 2024–25"]
    assert post.platform == "rss" and post.kind == "article"
    assert post.external_id.startswith("rss:") and len(post.external_id) == 68
    assert post.url == "https://www.northmoor.gov.uk/news/foi-disclosure-log-2024-25"
    assert post.text == (
        "Every response to a Freedom of Information request we answered in 2024–25 is now in our disclosure log.\n\n"
        "Questions? Email foi@northmoor.gov.uk or read the ICO’s guide to official information."
    )
    assert "<" not in post.text
    assert post.links == (
        "https://www.northmoor.gov.uk/news/foi-disclosure-log-2024-25",
        "https://www.northmoor.gov.uk/foi-log",
        "https://ico.org.uk/for-the-public/official-information/",
    )
    assert post.author_name == "Communications Team" and post.author_handle == ""
    assert post.created_at == datetime(2025, 5, 14, 10, 30, tzinfo=timezone.utc)
    assert post.lang == "en"
    escaped = by_title(page)["Data breach at housing repairs contractor: what residents need to know"]
    assert escaped.text.startswith("We have reported the incident to the Information Commissioner’s Office & are")
    assert escaped.author_handle == "nmc_press"


def test_it_reads_an_rss1_rdf_feed(fake):
    fake.serve("/releases.rdf", load("statistics_releases_rss1.rdf"), content_type="application/rdf+xml")
    (page,) = read(fake, "/releases.rdf")
    post = by_title(page)["Freedom of Information statistics: October to December 2024"]
    assert post.url == "https://statistics.example.gov.uk/releases/foi-q4-2024"
    assert post.text.startswith("87% of FOI requests")
    assert post.created_at == datetime(2025, 4, 24, 8, 30, tzinfo=timezone.utc)
    assert post.author_name == "Dr Priya Raman" and post.lang == "en"
    assert len(page.posts) == 2


def test_it_reads_an_atom_feed(fake):
    fake.serve("/feed.atom", load("information_rights_blog_atom.xml"), content_type="application/atom+xml")
    (page,) = read(fake, "/feed.atom")
    titles = sorted(by_title(page))
    assert titles == ["Ask the ICO: can a school charge for a subject access request?",
                      "Five things councils get wrong about vexatious FOI requests"]
    blog = by_title(page)["Five things councils get wrong about vexatious FOI requests"]
    assert blog.text == "Section 14 is not a shortcut. The ICO’s guidance says look at the request, not the requester."
    assert blog.links[1] == "https://ico.org.uk/for-organisations/foi/section-14/"
    assert blog.created_at == datetime(2025, 5, 14, 8, 0, tzinfo=timezone.utc) and blog.author_name == "Ffion Roberts"
    ask = by_title(page)["Ask the ICO: can a school charge for a subject access request?"]
    assert ask.url == fake.url_for("/2025/05/school-sar-fees")  # relative links resolve against the feed
    assert ask.text == "Almost never. Read your right of access." and ask.author_handle == "ffionr"


def test_a_search_harvest_on_feeds_is_refused():
    with pytest.raises(HarvestError, match="read whole as channels"):
        list(source().pages(query=parse("privacy"), cursor={}, max_pages=1))
    assert FeedSource.supports_search is False


@pytest.mark.parametrize("channel", ["ftp://example.org/feed.xml", "notifications", "https://", "https://a b.example/feed",
                                     "https://user:secret@example.org/feed", "javascript:alert(1)"])
def test_a_channel_must_be_an_http_feed_address(channel):
    assert FeedSource.channel_error(channel)
    with pytest.raises(HarvestError):
        list(source().pages(channel=channel, cursor={}, max_pages=1))


def test_a_feed_address_is_a_valid_channel():
    assert FeedSource.channel_error("https://www.northmoor.gov.uk/news/rss.xml?format=rss") == ""


def test_feeds_need_no_credentials():
    assert source().check_connection() == "News feeds need no credentials."


# ---------------------------------------------------------------- cursor, conditional GET, dedup


def test_an_unchanged_feed_answers_304_and_nothing_is_new(fake):
    (first,) = read(fake)
    assert first.cursor["etag"] == '"nmc-41"' and first.cursor["last_modified"] == "Wed, 14 May 2025 11:05:00 GMT"
    (second,) = read(fake, cursor=first.cursor)
    sent = fake.hits(PATH)[-1]["headers"]
    assert sent["If-None-Match"] == '"nmc-41"' and sent["If-Modified-Since"] == "Wed, 14 May 2025 11:05:00 GMT"
    assert second.posts == [] and second.skipped == [] and second.cursor == first.cursor


def test_last_modified_alone_makes_a_conditional_get(fake):
    fake.serve(PATH, load("northmoor_news_rss2.xml"), last_modified="Wed, 14 May 2025 11:05:00 GMT")
    (first,) = read(fake)
    (second,) = read(fake, cursor=first.cursor)
    assert "etag" not in first.cursor and second.posts == []


def test_the_next_read_yields_only_new_entries(fake):
    (first,) = read(fake)
    fake.serve(PATH, load("northmoor_news_rss2_updated.xml"), etag='"nmc-42"')
    (second,) = read(fake, cursor=first.cursor)
    assert [p.title for p in second.posts] == ["ICO reprimand: our response"]
    assert second.cursor["etag"] == '"nmc-42"' and "last_modified" not in second.cursor
    fake.serve(PATH, load("northmoor_news_rss2.xml"))  # no validators: fetched whole, still nothing new
    (third,) = read(fake, cursor=second.cursor)
    assert third.posts == []


def test_entries_are_deduplicated_on_the_id_then_the_link(fake):
    body = load("northmoor_news_rss2.xml").replace(
        b"</channel>",
        b"<item><title>Repeat</title><guid isPermaLink=\"false\">nmc-news-8812</guid><link>https://elsewhere.example/</link></item>"
        b"<item><title>No guid</title><link>https://www.northmoor.gov.uk/news/no-guid</link></item>"
        b"<item><title>No guid again</title><link>https://www.northmoor.gov.uk/news/no-guid</link></item></channel>",
    )
    fake.serve(PATH, body)
    (page,) = read(fake)
    titles = [p.title for p in page.posts]
    assert "Repeat" not in titles and titles.count("No guid") == 1 and "No guid again" not in titles
    assert len(page.posts) == 4


def test_the_same_entry_in_two_feeds_is_two_posts(fake):
    fake.serve("/mirror.xml", load("northmoor_news_rss2.xml"))
    (a,) = read(fake)
    (b,) = read(fake, "/mirror.xml")
    assert not ({p.external_id for p in a.posts} & {p.external_id for p in b.posts})


def test_an_empty_feed_is_one_empty_page(fake):
    fake.serve("/consultations.xml", load("empty_channel_rss2.xml"))
    (page,) = read(fake, "/consultations.xml")
    assert page.posts == [] and page.skipped == [] and page.cursor["seen"] == []


def test_entries_past_the_cap_are_left_with_a_note(fake, settings):
    settings.EARSHOT_FEED_MAX_ENTRIES = 2
    (page,) = read(fake)
    assert len(page.posts) == 2 and "only the first 2" in page.notes[0]


# ---------------------------------------------------------------- redirects


def test_a_permanent_redirect_is_followed_and_recorded(fake):
    fake.redirect("/old/rss", PATH, status=301)
    channel = fake.url_for("/old/rss")
    (page,) = read(fake, "/old/rss")
    assert len(page.posts) == 3
    assert page.cursor["url"] == fake.url_for(PATH) and page.cursor["feed"] == channel
    assert page.notes == [f"The feed moved permanently to {fake.url_for(PATH)}; it is read there from now on."]
    (again,) = read(fake, "/old/rss", cursor=page.cursor)
    assert len(fake.hits("/old/rss")) == 1 and again.posts == [] and again.notes == []


def test_a_308_is_permanent_too_and_ids_stay_with_the_channel(fake):
    fake.redirect("/old/rss", PATH, status=308)
    (moved,) = read(fake, "/old/rss")
    fake.redirects.clear()
    fake.serve("/old/rss", load("northmoor_news_rss2.xml"))
    (direct,) = read(fake, "/old/rss")
    assert moved.notes and {p.external_id for p in moved.posts} == {p.external_id for p in direct.posts}


def test_a_temporary_redirect_is_followed_without_recording(fake):
    fake.redirect("/latest", PATH, status=302)
    (page,) = read(fake, "/latest")
    assert len(page.posts) == 3 and page.notes == [] and page.cursor["url"] == fake.url_for("/latest")


def test_a_permanent_redirect_after_a_temporary_one_is_not_recorded(fake):
    fake.redirect("/a", "/b", status=307)
    fake.redirect("/b", PATH, status=301)
    (page,) = read(fake, "/a")
    assert page.notes == [] and page.cursor["url"] == fake.url_for("/a")


def test_a_redirect_loop_stops_after_five_hops(fake):
    fake.redirect("/a", "/b", status=302)
    fake.redirect("/b", "/a", status=302)
    with pytest.raises(HarvestError, match="more than 5 times"):
        read(fake, "/a")
    assert len(fake.requests) == 6


def test_a_redirect_away_from_http_is_refused(fake):
    fake.redirect("/a", "file:///etc/passwd", status=301)
    with pytest.raises(HarvestError, match="not a feed address"):
        read(fake, "/a")


# ---------------------------------------------------------------- faults


def test_a_429_waits_for_retry_after_with_no_retry(fake):
    fake.script(PATH, (429, b"Too Many Requests", {"Retry-After": "120"}))
    before = datetime.now(timezone.utc)
    with pytest.raises(RateLimited) as limited:
        read(fake)
    after = datetime.now(timezone.utc)
    assert before + timedelta(seconds=120) <= limited.value.retry_at <= after + timedelta(seconds=120)
    assert len(fake.hits(PATH)) == 1


def test_a_503_with_a_retry_after_date_is_a_rate_limit(fake):
    reset = (datetime.now(timezone.utc) + timedelta(minutes=30)).replace(microsecond=0)
    fake.script(PATH, (503, b"<html>Down for maintenance</html>", {"Retry-After": format_datetime(reset, usegmt=True)}))
    with pytest.raises(RateLimited) as limited:
        read(fake)
    assert limited.value.retry_at == reset and len(fake.hits(PATH)) == 1


def test_server_errors_are_retried_with_backoff_then_the_feed_is_read(fake):
    fake.script(PATH, (500, b"<html>Internal Server Error</html>"), (502, b"<html>Bad Gateway</html>"))
    sleeps = []
    (page,) = read(fake, src=quiet_source(sleeps))
    assert len(page.posts) == 3 and len(fake.hits(PATH)) == 3 and len(sleeps) == 2


def test_server_errors_that_outlast_the_retries_fail_the_run(fake):
    fake.script(PATH, *[(503, b"<html>Service Unavailable</html>")] * 6)
    with pytest.raises(PlatformUnavailable):
        read(fake, src=quiet_source())
    assert len(fake.hits(PATH)) == 4


def test_a_forbidden_feed_is_an_error_not_bad_credentials(fake):
    fake.script(PATH, (403, b"<html>Forbidden</html>"))
    with pytest.raises(HarvestError) as refused:
        read(fake)
    assert refused.value.status == "error" and "without credentials" in str(refused.value)


def test_a_missing_feed_is_an_error_on_the_run(fake):
    with pytest.raises(HarvestError, match="HTTP 404"):
        read(fake, "/no-such-feed.xml")


def test_malformed_entries_are_skipped_and_recorded_and_the_rest_stored(fake):
    fake.serve("/parish.xml", load("malformed_entries_rss2.xml"))
    (page,) = read(fake, "/parish.xml")
    assert sorted(p.title for p in page.posts) == ["Allotment waiting list", "Annual meeting: minutes published"]
    allotments = by_title(page)["Allotment waiting list"]
    assert allotments.url == "" and allotments.links == ()  # a javascript: link is no link
    assert len(page.skipped) == 2
    assert "neither an id nor a link" in page.skipped[0]
    assert "'sometime next Tuesday' cannot be read" in page.skipped[1]


@pytest.mark.parametrize(
    "fixture, content_type, message",
    [
        ("council_homepage.html", "text/html; charset=utf-8", "an HTML page"),
        ("council_homepage.html", "application/rss+xml", "an HTML page"),
        ("not_a_feed.json", "application/json", "JSON"),
    ],
)
def test_a_body_that_is_not_a_feed_fails_the_run(fake, fixture, content_type, message):
    fake.serve(PATH, load(fixture), content_type=content_type)
    with pytest.raises(MalformedPage, match=message):
        read(fake)


def test_xml_that_is_neither_rss_nor_atom_is_not_a_feed(fake):
    fake.serve(PATH, b'<?xml version="1.0"?><invoice><total currency="GBP">12.50</total></invoice>', content_type="application/xml")
    with pytest.raises(MalformedPage, match="not a feed"):
        read(fake)


def test_a_truncated_feed_fails_the_run(fake):
    body = load("northmoor_news_rss2.xml")
    fake.serve(PATH, body[: len(body) * 2 // 3])
    with pytest.raises(MalformedPage, match="cut short"):
        read(fake)


def test_a_feed_with_an_undefined_entity_is_still_read(fake):
    # A common slip (HTML's &nbsp; in XML): the parser recovers and the document is whole.
    fake.serve(PATH, load("northmoor_news_rss2.xml").replace(b"Every response", b"Every&nbsp;response"))
    (page,) = read(fake)
    assert len(page.posts) == 3


@pytest.mark.timeout(20)
def test_a_billion_laughs_document_is_refused_before_parsing(fake):
    fake.serve(PATH, load("billion_laughs.xml"))
    with pytest.raises(MalformedPage, match="billion laughs"):
        read(fake)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_a_billion_laughs_document_in_a_wide_encoding_is_refused(fake, encoding):
    text = load("billion_laughs.xml").decode().replace('encoding="UTF-8"', f'encoding="{encoding.upper()}"')
    fake.serve(PATH, text.encode(encoding), content_type="application/rss+xml")
    with pytest.raises(MalformedPage, match="billion laughs"):
        read(fake)


@pytest.mark.timeout(20)
def test_an_external_entity_is_refused(fake):
    body = load("northmoor_news_rss2.xml").replace(
        b'<rss version="2.0"', b'<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n<rss version="2.0"'
    ).replace(b"Every response", b"&secret; Every response")
    fake.serve(PATH, body)
    with pytest.raises(MalformedPage, match="entities"):
        read(fake)


def test_a_plain_doctype_without_entities_is_read(fake):
    body = load("northmoor_news_rss2.xml").replace(
        b'<rss version="2.0"',
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss version="2.0"',
    )
    fake.serve(PATH, body)
    (page,) = read(fake)
    assert len(page.posts) == 3


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "until-close"])
def test_an_oversized_body_is_refused(fake, settings, declare_length):
    settings.EARSHOT_FEED_MAX_BYTES = 4096
    body = load("northmoor_news_rss2.xml").replace(b"</channel>", b"<!-- " + b"padding " * 1000 + b"--></channel>")
    fake.serve(PATH, body, declare_length=declare_length)
    with pytest.raises(MalformedPage, match="4,096-byte cap"):
        read(fake)


# ---------------------------------------------------------------- HTML to text


def test_html_to_text_keeps_text_and_http_links_and_drops_everything_else():
    text, links = html_to_text(
        '<p onclick="x()">Hello &amp; <b>welcome</b></p><script>alert(1)</script><style>p{color:red}</style>'
        '<!-- hidden --><a href="javascript:alert(1)">js</a> <a href="https://ico.org.uk/?a=1&amp;b=2">ICO</a>'
        "<p>Second<br>line &lt;not a tag&gt; £5"
    )
    assert text == "Hello & welcome\njs ICO\nSecond\nline <not a tag> £5"
    assert links == ["https://ico.org.uk/?a=1&b=2"]


@pytest.mark.timeout(30)
def test_html_to_text_stays_linear_on_hostile_markup():
    hostile = "<a" * 200_000 + "<br" * 200_000 + "<p " * 100_000 + "&" * 100_000
    text, links = html_to_text(hostile)
    assert links == []
