"""End to end: one saved search over X, Mastodon and Bluesky plus a news-feed channel,
harvested by a real Celery worker (a separate process) from local fake platforms
over real HTTP, into mentions and inbox items; a second round adds nothing."""

import uuid

import pytest
from django.conf import settings
from django.utils import timezone

from listening.credentials import credential_save
from listening.models import Channel, HarvestRun, Mention, SavedSearch, SavedSearchPlatform
from listening.tasks import dispatch_due_harvests
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.bluesky import load as bluesky_fixture
from tests.fakes.feeds import FakeFeeds
from tests.fakes.feeds import load as feed_fixture
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import FakeServer
from tests.fakes.x import FakeX
from tests.support import start_celery_worker, wait_for
from triage.models import InboxItem

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

FEED_PATH = "/news/rss.xml"
PLATFORMS = ("x", "mastodon", "bluesky", "rss")


@pytest.fixture
def platforms():
    with FakeServer() as x_server, FakeServer() as mastodon_server, FakeBluesky() as bluesky, FakeFeeds() as feeds:
        bluesky.posts = bluesky_fixture("search_posts.json")
        bluesky.notifications = bluesky_fixture("notifications.json")
        feeds.serve(FEED_PATH, feed_fixture("northmoor_news_rss2.xml"), etag='"nmc-41"')
        yield {
            "x": FakeX(x_server, bearer_token="e2e-bearer"),
            "mastodon": FakeMastodon(mastodon_server, access_token="e2e-mastodon"),
            "bluesky": bluesky,
            "feeds": feeds,
        }


@pytest.fixture
def worker(tmp_path, platforms):
    queue = f"earshot-e2e-{uuid.uuid4().hex[:8]}"
    process = start_celery_worker(
        queue,
        tmp_path / "worker.log",
        EARSHOT_X_BASE_URL=platforms["x"].url,
        EARSHOT_MASTODON_BASE_URL=platforms["mastodon"].url,
        EARSHOT_BLUESKY_BASE_URL=platforms["bluesky"].url,
        EARSHOT_SECRETS_KEY=settings.EARSHOT_SECRETS_KEY,
    )
    yield queue
    process.terminate()
    try:
        process.wait(timeout=20)
    except Exception:
        process.kill()
    print((tmp_path / "worker.log").read_text(errors="replace")[-6000:])


def _round(queue, expected_runs: int) -> None:
    SavedSearchPlatform.objects.update(next_run_at=timezone.now())
    Channel.objects.update(next_run_at=timezone.now())
    dispatch_due_harvests.apply_async(queue=queue)
    wait_for(
        lambda: HarvestRun.objects.filter(finished_at__isnull=False).count() >= expected_runs,
        timeout=150,
        what=f"{expected_runs} finished harvest runs",
    )


def test_a_worker_harvests_three_platforms_and_a_feed_into_the_inbox_once(
    platforms, worker, communications, admin_user, monkeypatch
):
    monkeypatch.setattr(settings, "EARSHOT_MASTODON_BASE_URL", platforms["mastodon"].url)
    credential_save(platform="x", values={"bearer_token": "e2e-bearer"}, actor=admin_user)
    credential_save(
        platform="mastodon", values={"access_token": "e2e-mastodon"}, actor=admin_user, base_url=platforms["mastodon"].url
    )
    credential_save(platform="bluesky", values=platforms["bluesky"].credentials, actor=admin_user)
    search = SavedSearch.objects.create(
        team=communications, name="FOI and data protection", query='FOI OR GDPR OR "data protection"'
    )
    for platform in PLATFORMS:
        SavedSearchPlatform.objects.create(saved_search=search, platform=platform)
    Channel.objects.create(platform="rss", channel=platforms["feeds"].url_for(FEED_PATH), name="Northmoor news")

    # Three search harvests and the feed channel (news feeds have no search of their own).
    _round(worker, 4)
    runs = list(HarvestRun.objects.select_related("channel").order_by("pk"))
    assert {(run.platform, run.status) for run in runs} == {(p, "ok") for p in PLATFORMS}, [
        (run.platform, run.status, run.errors) for run in runs
    ]
    assert next(run for run in runs if run.platform == "rss").channel is not None
    stored = {platform: Mention.objects.filter(platform=platform).count() for platform in PLATFORMS}
    assert all(stored.values()), stored
    inbox = {
        platform: InboxItem.objects.filter(team=communications, mention__platform=platform).count() for platform in PLATFORMS
    }
    assert inbox == stored  # every stored mention matched the team's search, and is in its inbox once
    assert all(search.hits.filter(mention__platform=p).exists() for p in PLATFORMS)

    # A second round reads again from the stored cursors: nothing new, nothing doubled.
    _round(worker, 8)
    assert {p: Mention.objects.filter(platform=p).count() for p in PLATFORMS} == stored
    assert InboxItem.objects.filter(team=communications).count() == sum(stored.values())
    latest = HarvestRun.objects.order_by("-pk")[:4]
    assert all(run.status == "ok" and run.new == 0 for run in latest), [(r.platform, r.status, r.new) for r in latest]
