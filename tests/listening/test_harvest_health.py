"""The harvest health page hides no failure: each search and channel with its last run,
next run, rate limit, reads and problems; credentials, spend and request limits per platform."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from listening import services
from listening.credentials import credential_mark_failed, credential_save
from listening.dispatch import harvest_dispatch_due
from listening.models import Channel, HarvestRun, SavedSearch, SavedSearchPlatform
from listening.spend import reads_record, spend_cap_set
from listening.posts import Post
from tests.listening.fake_source import FakeSource, clean_redis, use_fake_source  # noqa: F401


def _search(team, name, platform="x", interval=2, query="ICO"):
    search = SavedSearch.objects.create(team=team, name=name, query=query, interval_minutes=interval)
    return SavedSearchPlatform.objects.create(saved_search=search, platform=platform, next_run_at=timezone.now())


def _page(client, user):
    client.force_login(user)
    response = client.get(reverse("listening:harvest_health"))
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_each_search_and_channel_with_its_last_run_and_notes(client, comms_officer, communications, use_fake_source):
    state = _search(communications, "Says ICO")
    channel = Channel.objects.create(platform="x", channel="mentions", name="Our mentions")
    services.channel_harvest_run(
        channel_id=channel.pk, token=services.channel_claim(channel_id=channel.pk), max_pages=2,
        source=FakeSource(page_size=3, notes=["Full-text search is not available on this instance: only hashtags are searched."]),
    )
    SavedSearchPlatform.objects.filter(pk=state.pk).update(
        last_status="error", last_error="Skipped <script>alert(1)</script> item", notes=["Followed a permanent redirect"]
    )
    page = _page(client, comms_officer)
    assert "Communications: Says ICO" in page and "Our mentions" in page
    assert "6 / 6 / 6" in page  # fetched / new / matched of the channel's last run
    assert "Full-text search is not available on this instance" in page and "Followed a permanent redirect" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "requests free" in page  # the channel's rate-limit state


def test_it_shows_only_the_viewers_teams_searches(client, comms_officer, communications, foi_team):
    _search(communications, "Comms search", platform="demo")
    _search(foi_team, "FOI search", platform="demo")
    page = _page(client, comms_officer)
    assert "Comms search" in page and "FOI search" not in page


def test_failed_credentials_say_authentication_failed(client, admin_user, communications, use_fake_source):
    _search(communications, "Says ICO")
    credential = credential_save(platform="x", values={"bearer_token": "revoked"}, actor=admin_user)
    credential_mark_failed(credential_id=credential.pk, error="authentication failed (401): Unauthorized")
    page = _page(client, admin_user)
    assert "X: authentication failed — authentication failed (401): Unauthorized. Nothing polls with it until it is replaced." in page


def test_spend_against_the_cap_and_monthly_budget_reached(client, admin_user, communications, use_fake_source):
    state = _search(communications, "Says ICO")
    credential_save(platform="x", values={"bearer_token": "good"}, actor=admin_user)
    spend_cap_set(platform="x", monthly_cap=Decimal("10"), actor=admin_user)
    posts = [Post(platform="x", external_id=str(n)) for n in range(1000)]
    reads_record(platform="x", posts=posts, saved_search_id=state.saved_search_id, now=timezone.now())
    page = _page(client, admin_user)
    assert "1,000 posts read, 1,000 charged" in page and "about $5.00 of the $10.00 monthly cap (50%)" in page
    assert "($5.00)" in page  # this search's own spend

    spend_cap_set(platform="x", monthly_cap=Decimal("5"), actor=admin_user)
    page = _page(client, admin_user)
    assert "X: monthly budget reached: $5.00 of the $5.00 cap. Harvesting resumes next month, or when the cap is raised." in page


@override_settings(EARSHOT_REQUEST_BUDGETS={"x": (4, 300)})
def test_a_platform_at_its_request_limit_says_how_often_searches_run(client, admin_user, communications, use_fake_source):
    credential_save(platform="x", values={"bearer_token": "good"}, actor=admin_user)
    for n in range(12):
        _search(communications, f"search {n}", interval=2)
    assert len(harvest_dispatch_due()) == 4  # the budget allows four; eight wait
    page = _page(client, admin_user)
    # Twelve searches sharing 4 requests per 5 minutes: each gets a turn every 15 minutes.
    assert "X is at its request limit: searches run every 15 minutes instead of 2." in page


def test_a_search_on_a_platform_without_search_says_it_is_matched_from_channels(client, comms_officer, communications, use_fake_source):
    _search(communications, "Feeds say ICO", platform="rss")
    page = _page(client, comms_officer)
    assert "News feeds (RSS/Atom) has no search: this search is matched against the posts of that platform&#x27;s channels" in page


def _world(communications, size):
    for n in range(size):
        state = _search(communications, f"search {n}")
        run = HarvestRun.objects.create(saved_search=state.saved_search, platform="x", finished_at=timezone.now(), status="ok")
        reads_record(platform="x", posts=[Post(platform="x", external_id=f"{n}")], saved_search_id=state.saved_search_id,
                     now=timezone.now())
        channel = Channel.objects.create(platform="x", channel=f"list:{n}", next_run_at=timezone.now() + timedelta(minutes=n))
        HarvestRun.objects.create(channel=channel, platform="x", status="ok")


@pytest.mark.parametrize("size", [1, 12])
def test_it_reads_the_page_in_a_fixed_number_of_queries(client, admin_user, communications, use_fake_source, size,
                                                        django_assert_num_queries):
    credential_save(platform="x", values={"bearer_token": "good"}, actor=admin_user)
    _world(communications, size)
    client.force_login(admin_user)
    # Session, user and access (3), teams (1), then one query per table: searches, channels,
    # their latest runs, credentials, this month's usage, spend caps, recent runs.
    with django_assert_num_queries(11):
        assert client.get(reverse("listening:harvest_health")).status_code == 200
