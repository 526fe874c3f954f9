"""The admin pages for platforms: credentials (never shown again), test connection,
channels with validation, and monthly spend caps; every change audited."""

from decimal import Decimal

import pytest
from django.urls import reverse

from governance.models import AuditEvent
from listening.credentials import credential_save, stored_credentials
from listening.models import Channel, PlatformCredential, SpendCap
from listening.sources import registry
from tests.listening.fake_source import clean_redis, use_fake_source  # noqa: F401

TOKEN = "zq-SECRET-token-7f3a9c"


@pytest.fixture
def admin_client(client, admin_user, use_fake_source):
    client.force_login(admin_user)
    return client


def _pages(credential=None, channel=None):
    urls = [reverse(name) for name in (
        "listening:platforms", "listening:channels", "listening:channel_new", "listening:harvest_health",
        "listening:saved_searches", "listening:saved_search_new",
    )]
    urls.append(reverse("listening:credential_new", kwargs={"platform": "mastodon"}))
    if credential:
        urls.append(reverse("listening:credential_edit", kwargs={"credential_id": credential.pk}))
    if channel:
        urls.append(reverse("listening:channel_edit", kwargs={"channel_id": channel.pk}))
    return urls


def test_an_admin_adds_a_credential_and_the_secret_never_appears_in_any_page(admin_client):
    response = admin_client.post(
        reverse("listening:credential_new", kwargs={"platform": "x"}), {"bearer_token": TOKEN, "user_id": "1234567"}
    )
    assert response.status_code == 302
    credential = PlatformCredential.objects.get()
    assert stored_credentials("x") == {"bearer_token": TOKEN, "user_id": "1234567"}
    event = AuditEvent.objects.get(action="credential.create")
    assert event.details["keys_changed"] == ["bearer_token", "user_id"] and TOKEN not in repr(event.details)

    channel = Channel.objects.create(platform="x", channel="mentions")
    for url in _pages(credential, channel):
        page = admin_client.get(url)
        assert page.status_code == 200, url
        assert TOKEN not in page.content.decode(), url
    listing = admin_client.get(reverse("listening:platforms")).content.decode()
    assert "Bearer token: set" in listing and "1234567" in listing  # the account id is not a secret


def test_a_form_with_an_error_does_not_send_the_secret_back(admin_client):
    response = admin_client.post(
        reverse("listening:credential_new", kwargs={"platform": "mastodon"}), {"base_url": "not a url", "access_token": TOKEN}
    )
    assert response.status_code == 200 and "Enter a valid URL" in response.content.decode()
    assert TOKEN not in response.content.decode()
    assert not PlatformCredential.objects.exists()


def test_replacing_keys_keeps_a_secret_left_blank(admin_client, admin_user):
    credential = credential_save(platform="x", values={"bearer_token": TOKEN, "user_id": "1"}, actor=admin_user)
    url = reverse("listening:credential_edit", kwargs={"credential_id": credential.pk})
    page = admin_client.get(url).content.decode()
    assert "Set — type a new value to replace it." in page and TOKEN not in page
    assert admin_client.post(url, {"bearer_token": "", "user_id": "2"}).status_code == 302
    assert stored_credentials("x") == {"bearer_token": TOKEN, "user_id": "2"}
    assert AuditEvent.objects.filter(action="credential.replace").get().details["keys_changed"] == ["user_id"]


def test_there_is_one_credential_per_platform_and_one_per_mastodon_instance(admin_client, admin_user):
    existing = credential_save(platform="x", values={"bearer_token": TOKEN}, actor=admin_user)
    response = admin_client.get(reverse("listening:credential_new", kwargs={"platform": "x"}))
    assert response["Location"] == reverse("listening:credential_edit", kwargs={"credential_id": existing.pk})
    new_mastodon = reverse("listening:credential_new", kwargs={"platform": "mastodon"})
    for instance in ("https://social.example", "https://other.example"):
        assert admin_client.post(new_mastodon, {"base_url": instance, "access_token": "t"}).status_code == 302
    again = admin_client.post(new_mastodon, {"base_url": "https://SOCIAL.example/", "access_token": "t"})
    assert "There is a credential for this already" in again.content.decode()
    assert PlatformCredential.objects.filter(platform="mastodon").count() == 2


def test_test_connection_reports_success_or_the_platforms_own_error(admin_client, admin_user):
    credential = credential_save(platform="x", values={"bearer_token": "good"}, actor=admin_user)
    test = reverse("listening:credential_test", kwargs={"credential_id": credential.pk})
    page = admin_client.post(test, {"confirm": "test"}, follow=True).content.decode()
    assert "X: connected. Signed in as @ico_news" in page
    credential.refresh_from_db()
    assert credential.state == "ok"

    credential_save(platform="x", values={"bearer_token": "revoked"}, actor=admin_user, credential=credential)
    page = admin_client.post(test, {"confirm": "test"}, follow=True).content.decode()
    assert "X: authentication failed (401): Unauthorized" in page
    credential.refresh_from_db()
    assert credential.state == "failed"
    assert [e.details["worked"] for e in AuditEvent.objects.filter(action="credential.test").order_by("id")] == [True, False]


def test_test_connection_on_a_platform_without_a_source_says_so(admin_client, admin_user, monkeypatch):
    monkeypatch.delitem(registry.SOURCES, "bluesky", raising=False)
    credential = credential_save(platform="bluesky", values={"identifier": "ico.org.uk", "app_password": "p"}, actor=admin_user)
    page = admin_client.post(reverse("listening:credential_test", kwargs={"credential_id": credential.pk}), {"confirm": "test"}, follow=True)
    assert "No source is installed for Bluesky yet." in page.content.decode()


def test_deleting_a_credential_is_audited(admin_client, admin_user):
    credential = credential_save(platform="x", values={"bearer_token": TOKEN}, actor=admin_user)
    delete = reverse("listening:credential_delete", kwargs={"credential_id": credential.pk})
    assert admin_client.post(delete).status_code == 400  # only the Delete button deletes
    assert PlatformCredential.objects.exists()
    assert admin_client.post(reverse("listening:credential_delete", kwargs={"credential_id": credential.pk}), {"confirm": "delete"}).status_code == 302
    assert not PlatformCredential.objects.exists()
    assert AuditEvent.objects.filter(action="credential.delete", object_id=str(credential.pk)).exists()


def test_an_admin_adds_a_channel_the_source_accepts(admin_client):
    response = admin_client.post(reverse("listening:channel_new"), {
        "platform": "x", "channel": " list:123 ", "name": "Tech journalists", "interval_minutes": 5, "enabled": "on",
    })
    assert response.status_code == 302
    channel = Channel.objects.get()
    assert (channel.channel, channel.enabled) == ("list:123", True)
    assert AuditEvent.objects.get(action="channel.create").details["channel"] == "list:123"


@pytest.mark.parametrize("platform,channel,message", [
    ("x", "everything", "An X channel is mentions or list:&lt;numeric id&gt;."),
    ("youtube", "UC123", "No source is installed for YouTube yet"),
    ("rss", "ftp://news.example/feed", "A news feed channel is the feed&#x27;s http(s) URL."),
])
def test_a_channel_the_source_refuses_is_not_saved(admin_client, monkeypatch, platform, channel, message):
    monkeypatch.delitem(registry.SOURCES, "youtube", raising=False)
    response = admin_client.post(reverse("listening:channel_new"), {"platform": platform, "channel": channel, "interval_minutes": 5})
    assert response.status_code == 200 and message in response.content.decode()
    assert not Channel.objects.exists() and not AuditEvent.objects.filter(action__startswith="channel.").exists()


def test_editing_what_a_channel_reads_starts_it_afresh_and_disabling_it_is_audited(admin_client):
    channel = Channel.objects.create(platform="x", channel="list:1", cursor={"offset": 40}, notes=["old note"])
    url = reverse("listening:channel_edit", kwargs={"channel_id": channel.pk})
    admin_client.post(url, {"platform": "x", "channel": "list:2", "interval_minutes": 5, "enabled": "on"})
    channel.refresh_from_db()
    assert (channel.channel, channel.cursor, channel.notes) == ("list:2", {}, [])
    admin_client.post(url, {"platform": "x", "channel": "list:2", "interval_minutes": 5})
    channel.refresh_from_db()
    assert channel.enabled is False
    assert [e.details["changed"] for e in AuditEvent.objects.filter(action="channel.update").order_by("id")] == [["channel"], ["enabled"]]


def test_only_mastodon_channels_name_an_instance(admin_client):
    response = admin_client.post(reverse("listening:channel_new"), {
        "platform": "x", "channel": "mentions", "base_url": "https://social.example", "interval_minutes": 5,
    })
    assert "Only Mastodon channels name an instance." in response.content.decode()


def test_an_admin_sets_a_monthly_spend_cap(admin_client):
    url = reverse("listening:spend_cap_edit", kwargs={"platform": "x"})
    admin_client.post(url, {"monthly_cap": "12.50"})
    assert SpendCap.objects.get(platform="x").monthly_cap == Decimal("12.50")
    page = admin_client.post(url, {"monthly_cap": "-3"}, follow=True).content.decode()
    assert "greater than or equal to 0" in page
    assert SpendCap.objects.get(platform="x").monthly_cap == Decimal("12.50")
    assert AuditEvent.objects.filter(action="spend_cap.update").count() == 1
    assert admin_client.post(reverse("listening:spend_cap_edit", kwargs={"platform": "rss"})).status_code == 404


def test_a_platform_error_that_quotes_the_secret_is_shown_without_it(admin_client, admin_user):
    secret = "echo-" + TOKEN
    credential = credential_save(platform="x", values={"bearer_token": secret}, actor=admin_user)
    page = admin_client.post(reverse("listening:credential_test", kwargs={"credential_id": credential.pk}), {"confirm": "test"}, follow=True)
    assert "authentication failed (401): the token ••• is not valid" in page.content.decode()
    assert secret not in page.content.decode()
    assert secret not in repr(AuditEvent.objects.get(action="credential.test").details)
    credential.refresh_from_db()
    assert secret not in credential.last_error
