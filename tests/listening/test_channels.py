"""Channels: claimed, leased and scheduled like search harvests; their posts matched against every saved search."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from listening import services
from listening.models import Channel, HarvestRun, Mention, MentionHit, PlatformUsage, SavedSearch, SavedSearchPlatform
from listening.sources.demo import DemoSource
from tests.listening.fake_source import FakeSource, clean_redis, use_fake_source  # noqa: F401
from tests.support import dispatch_concurrently
from triage.models import InboxItem


def _search(team, name, query, platform="x", **fields):
    search = SavedSearch.objects.create(team=team, name=name, query=query, interval_minutes=2, **fields)
    SavedSearchPlatform.objects.create(saved_search=search, platform=platform, next_run_at=timezone.now())
    return search


def _due(channel):
    Channel.objects.filter(pk=channel.pk).update(next_run_at=timezone.now())
    return services.channel_claim(channel_id=channel.pk)


@pytest.fixture
def x_searches(communications, foi_team):
    return _search(communications, "Says ICO", "ICO"), _search(foi_team, "FOI", "FOI", purpose="foi_monitoring")


def test_a_channel_harvest_matches_every_enabled_saved_search_on_its_platform(x_searches, use_fake_source):
    ico, foi = x_searches
    channel = Channel.objects.create(platform="x", channel="mentions", name="Our mentions")
    source = FakeSource(page_size=3)
    run = services.channel_harvest_run(channel_id=channel.pk, token=_due(channel), max_pages=2, source=source)

    assert source.asked == [{"query": None, "channel": "mentions", "cursor": {}}]
    assert (run.channel_id, run.saved_search_id, run.status, run.pages, run.fetched, run.new) == (channel.pk, None, "ok", 2, 6, 6)
    assert Mention.objects.count() == 6
    assert set(MentionHit.objects.values_list("saved_search_id", flat=True)) == {ico.pk, foi.pk}
    assert set(InboxItem.objects.values_list("team__slug", flat=True)) == {"communications", "foi-monitoring"}
    channel.refresh_from_db()
    assert channel.cursor == {"offset": 6} and channel.claim_token is None and channel.last_status == "ok"
    assert channel.next_run_at > timezone.now() + timedelta(minutes=4)
    usage = PlatformUsage.objects.get()
    assert (usage.channel_id, usage.saved_search_id, usage.reads) == (channel.pk, None, 6)


def test_the_next_channel_run_goes_on_from_its_cursor(x_searches, use_fake_source):
    channel = Channel.objects.create(platform="x", channel="mentions")
    services.channel_harvest_run(channel_id=channel.pk, token=_due(channel), max_pages=1, source=FakeSource(page_size=2))
    source = FakeSource(page_size=2)
    run = services.channel_harvest_run(channel_id=channel.pk, token=_due(channel), max_pages=1, source=source)
    assert source.asked[0]["cursor"] == {"offset": 2} and run.new == 2
    assert Mention.objects.count() == 4


def test_a_redelivered_channel_task_does_nothing(db):
    channel = Channel.objects.create(platform="demo", channel="stream")
    token = _due(channel)
    assert services.channel_harvest_run(channel_id=channel.pk, token=token, max_pages=1, source=DemoSource(page_size=2))
    assert services.channel_harvest_run(channel_id=channel.pk, token=token, max_pages=1) is None
    assert HarvestRun.objects.count() == 1


def test_a_disabled_channel_is_not_dispatched(db):
    on = Channel.objects.create(platform="demo", channel="on")
    Channel.objects.create(platform="demo", channel="off", enabled=False)
    assert [(c.kind, c.pk) for c in services.harvest_dispatch_due()] == [("channel", on.pk)]


def test_a_channel_is_claimed_once_until_its_lease_runs_out(db):
    channel = Channel.objects.create(platform="demo", channel="stream")
    assert services.channel_claim(channel_id=channel.pk) is not None
    assert services.channel_claim(channel_id=channel.pk) is None
    later = timezone.now() + Channel.CLAIM_LEASE + timedelta(seconds=1)
    assert services.channel_claim(channel_id=channel.pk, now=later) is not None


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_claim_each_channel_and_search_once(communications):
    channels = [Channel.objects.create(platform="demo", channel=f"stream-{n}") for n in range(6)]
    searches = [_search(communications, f"S{n}", "ICO", platform="demo") for n in range(4)]
    results = dispatch_concurrently(2)
    claimed = sorted((claim.kind, claim.pk) for claims in results for claim in claims)
    expected = [("channel", c.pk) for c in channels] + [("search", s.platform_states.get().pk) for s in searches]
    assert claimed == sorted(expected)


def test_saved_searches_on_a_platform_without_search_are_matched_from_its_channels_only(communications, use_fake_source):
    search = _search(communications, "Feeds say ICO", "ICO", platform="rss")
    feed = Channel.objects.create(platform="rss", channel="https://news.example/feed.xml")
    claims = services.harvest_dispatch_due()
    assert [(c.kind, c.pk) for c in claims] == [("channel", feed.pk)]

    services.harvest_kind_run(kind="channel", pk=feed.pk, token=claims[0].token)
    assert MentionHit.objects.filter(saved_search=search).exists()
    assert InboxItem.objects.filter(team=communications).exists()


def test_a_search_run_on_a_platform_without_search_ends_with_a_clear_error(communications, use_fake_source):
    search = _search(communications, "Feeds say ICO", "ICO", platform="rss")
    state = search.platform_states.get()
    run = services.harvest_run(state_id=state.pk, token=services.harvest_claim(state_id=state.pk))
    assert run.status == "error" and "has no search" in run.errors[-1]


def test_an_archived_search_is_never_harvested(communications):
    search = _search(communications, "Old", "ICO", platform="demo", archived_at=timezone.now())
    assert services.harvest_dispatch_due() == []
    assert services.harvest_claim(state_id=search.platform_states.get().pk) is None


def test_a_run_belongs_to_exactly_one_search_or_channel(communications):
    search = _search(communications, "S", "ICO", platform="demo")
    channel = Channel.objects.create(platform="demo", channel="stream")
    for fields in ({}, {"saved_search": search, "channel": channel}):
        with pytest.raises(IntegrityError), transaction.atomic():
            HarvestRun.objects.create(platform="demo", **fields)


def test_the_saved_search_form_says_feeds_are_matched_from_channels_only(client, comms_officer, use_fake_source):
    from django.urls import reverse

    client.force_login(comms_officer)
    form = client.get(reverse("listening:saved_search_new")).content.decode()
    assert "News feeds (RSS/Atom): no search on the platform; this search is matched against the posts of its channels" in form
    check = client.get(reverse("listening:saved_search_check"), {"query": "ICO", "platforms": ["rss"]}).content.decode()
    assert "No search on this platform: the search matches every new post of the channels an admin adds" in check
