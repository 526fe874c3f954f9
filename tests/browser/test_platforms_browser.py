"""A new admin adds a Mastodon credential and a news feed in a real browser, and watches
posts arrive: the platforms and channel forms, "Test connection", a harvest round run
as a worker runs it, then the team's inbox and the harvest health page. Mastodon and the
feed are local fakes over real HTTP; the live server runs in this process, so the
settings the test changes are the ones it reads."""

import pytest
from django.utils import timezone

from governance.models import AuditEvent
from listening import services
from listening.models import Channel, HarvestRun, PlatformCredential, SavedSearch, SavedSearchPlatform
from tests.fakes.feeds import FakeFeeds
from tests.fakes.feeds import load as feed_fixture
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import FakeServer
from triage.models import InboxItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

# Long and unlike any other text on the pages, so finding it anywhere means it leaked.
TOKEN = "mstdn-Zq7w3Kp9Xv2Lr8Tn4Hc6"
FEED_PATH = "/news/rss.xml"
SEARCH_NAME = "FOI and data protection"


@pytest.fixture
def mastodon():
    with FakeServer() as server:
        yield FakeMastodon(server, access_token=TOKEN)


@pytest.fixture
def feeds():
    with FakeFeeds() as feeds:
        feeds.serve(FEED_PATH, feed_fixture("northmoor_news_rss2.xml"), etag='"nmc-41"')
        yield feeds


@pytest.fixture
def seen(page):
    """The body of every page and fragment the browser was sent (redirects have none)."""
    bodies = []

    def keep(response):
        if response.request.resource_type in ("document", "xhr", "fetch") and not 300 <= response.status < 400:
            bodies.append((response.url, response.text()))

    page.on("response", keep)
    return bodies


def _row(page, table_heading: str, *cells: str):
    """The one row of the table under `table_heading` whose cells include all of `cells`."""
    rows = page.locator(f"h2:text-is('{table_heading}') + table tbody tr")
    for cell in cells:
        rows = rows.filter(has=page.locator("td", has_text=cell))
    assert rows.count() == 1, f"{table_heading}: {rows.count()} rows with {cells}"
    return rows.first


def test_a_new_admin_adds_mastodon_and_a_news_feed_and_watches_posts_arrive(
    page, sign_in, live_server, seen, settings, admin_user, communications, mastodon, feeds
):
    settings.EARSHOT_MASTODON_BASE_URL = mastodon.url
    search = SavedSearch.objects.create(team=communications, name=SEARCH_NAME, query='FOI OR GDPR OR "data protection"')
    for platform in ("mastodon", "rss"):
        SavedSearchPlatform.objects.create(saved_search=search, platform=platform)

    # 1. The Mastodon credential, through the form.
    sign_in("hamish")
    page.click("nav >> text=Platforms")
    page.locator("section[aria-label='Mastodon credentials']").get_by_role("link", name="Add Mastodon credentials").click()
    page.fill("#id_base_url", mastodon.url)
    page.fill("#id_access_token", TOKEN)
    page.click("button[type=submit]:text-is('Save')")
    page.wait_for_url(f"{live_server.url}/platforms/")
    assert "Saved the" in page.locator(".messages").inner_text()
    card = page.locator("section[aria-label='Mastodon credentials']")
    assert "Access token: set" in card.inner_text()
    credential = PlatformCredential.objects.get(platform="mastodon")
    assert credential.base_url == mastodon.url and TOKEN not in credential.secrets

    # The edit form offers a blank secret input, never the stored token.
    card.get_by_role("link", name="Replace keys").click()
    assert page.input_value("#id_access_token") == ""
    page.get_by_role("link", name="Cancel").click()

    page.locator("section[aria-label='Mastodon credentials']").get_by_role("button", name="Test connection").click()
    page.wait_for_url(f"{live_server.url}/platforms/")
    message = page.locator(".messages").inner_text()
    assert "Mastodon: connected." in message and "Signed in to" in message, message
    credential.refresh_from_db()
    assert credential.state == PlatformCredential.State.OK

    # 2. The news feed, through the channel form.
    page.get_by_role("link", name="Channels").first.click()
    page.get_by_role("link", name="Add a channel").click()
    page.select_option("#id_platform", "rss")
    page.fill("#id_channel", feeds.url_for(FEED_PATH))
    page.fill("#id_name", "Northmoor news")
    page.click("button[type=submit]:text-is('Save')")
    page.wait_for_url(f"{live_server.url}/platforms/channels/")
    assert "Saved the channel" in page.locator(".messages").inner_text()
    assert "Northmoor news" in page.locator("table.grid").inner_text()
    channel = Channel.objects.get()
    assert (channel.platform, channel.channel) == ("rss", feeds.url_for(FEED_PATH))

    # 3. One dispatcher tick and its claimed harvests, as a worker runs them.
    SavedSearchPlatform.objects.update(next_run_at=timezone.now())
    Channel.objects.update(next_run_at=timezone.now())
    claims = services.harvest_dispatch_due()
    assert {(claim.kind, claim.pk) for claim in claims} == {
        ("search", SavedSearchPlatform.objects.get(platform="mastodon").pk),
        ("channel", channel.pk),
    }
    for claim in claims:
        services.harvest_kind_run(kind=claim.kind, pk=claim.pk, token=claim.token)
    runs = {run.platform: run for run in HarvestRun.objects.all()}
    assert {p: r.status for p, r in runs.items()} == {"mastodon": "ok", "rss": "ok"}, [r.errors for r in runs.values()]
    assert runs["mastodon"].new and runs["rss"].new

    # 4. The posts are in the team's inbox ...
    page.goto(f"{live_server.url}/inbox/communications/")
    inbox = page.locator("#inbox-items")
    assert "Day 45 waiting on an FOI response from the trust" in inbox.inner_text()
    assert "Council publishes its FOI disclosure log" in inbox.inner_text()
    platforms_shown = set(page.locator("#inbox-items .platform").all_inner_texts())
    assert {"Mastodon", "News feeds (RSS/Atom)"} <= platforms_shown, platforms_shown
    assert inbox.locator("li.item").count() == InboxItem.objects.filter(team=communications).count()

    # ... and the health page says both harvests ran, with their counts.
    page.click("nav >> text=Harvest health")
    mastodon_row = _row(page, "Search harvests", SEARCH_NAME, "Mastodon")
    feed_row = _row(page, "Channels", "Northmoor news")
    for row, run in ((mastodon_row, runs["mastodon"]), (feed_row, runs["rss"])):
        cells = row.locator("td").all_inner_texts()
        assert cells[2].strip() == "OK", cells
        assert cells[4].strip() == f"{run.fetched} / {run.new} / {run.matched}", cells

    assert page.console_errors == []
    pages = [url for url, _ in seen]
    assert any(url.endswith("/platforms/") for url in pages) and any("/harvests/" in url for url in pages), pages
    assert [url for url, body in seen if TOKEN in body] == []
    assert not [event.action for event in AuditEvent.objects.all() if TOKEN in str(event.details)]
