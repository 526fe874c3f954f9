"""Deleting a saved search archives it: it stops running and leaves the lists, its history stays."""

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.models import AuditEvent
from listening.models import HarvestRun, MentionHit, SavedSearch, SavedSearchPlatform
from listening.services import harvest_dispatch_due


@pytest.fixture
def search_with_history(communications, make_mention):
    search = SavedSearch.objects.create(team=communications, name="Old search", query='"the ICO"')
    SavedSearchPlatform.objects.create(saved_search=search, platform="demo", next_run_at=timezone.now())
    MentionHit.objects.create(mention=make_mention(), saved_search=search)
    HarvestRun.objects.create(saved_search=search, platform="demo", status="ok", finished_at=timezone.now())
    return search


@pytest.fixture
def live_search(communications):
    return SavedSearch.objects.create(team=communications, name="Live search", query="GDPR")


def _assert_archived_with_history(search, actor):
    search.refresh_from_db()
    assert search.archived_at is not None and not search.enabled
    assert MentionHit.objects.filter(saved_search=search).count() == 1
    assert HarvestRun.objects.filter(saved_search=search).count() == 1
    event = AuditEvent.objects.get(action="saved_search.archive", object_id=str(search.pk))
    assert event.actor == actor and event.ip == "127.0.0.1"
    assert event.details == {"was_enabled": True, "hits_kept": 1, "runs_kept": 1}


def _changelist(client, query=""):
    return client.get(f"/admin/listening/savedsearch/{query}").content.decode()


def test_deleting_in_admin_asks_to_archive_and_archives_keeping_the_history(client, admin_user, search_with_history):
    client.force_login(admin_user)
    change_page = client.get(f"/admin/listening/savedsearch/{search_with_history.pk}/change/").content.decode()
    assert 'class="deletelink">Archive</a>' in change_page
    url = f"/admin/listening/savedsearch/{search_with_history.pk}/delete/"
    page = client.get(url).content.decode()
    assert "Archive the saved search" in page and "harvest history are kept" in page
    response = client.post(url, {"post": "yes"}, follow=True)
    assert "was archived" in response.content.decode()
    _assert_archived_with_history(search_with_history, admin_user)
    assert not AuditEvent.objects.filter(action="admin.delete").exists()
    change_page = client.get(f"/admin/listening/savedsearch/{search_with_history.pk}/change/").content.decode()
    assert "This saved search was archived" in change_page and 'class="deletelink"' not in change_page


def test_the_delete_action_in_admin_archives_every_selected_search(client, admin_user, search_with_history, live_search):
    client.force_login(admin_user)
    selected = {"action": "delete_selected", "_selected_action": [search_with_history.pk, live_search.pk]}
    page = client.post("/admin/listening/savedsearch/", selected).content.decode()
    assert "Archive these saved searches?" in page and "harvest history are kept" in page
    assert not SavedSearch.objects.filter(archived_at__isnull=False).exists()

    response = client.post("/admin/listening/savedsearch/", {**selected, "post": "yes"}, follow=True)
    assert "Archived 2 saved searches" in response.content.decode()
    _assert_archived_with_history(search_with_history, admin_user)
    live_search.refresh_from_db()
    assert live_search.archived_at is not None and SavedSearch.objects.count() == 2
    assert AuditEvent.objects.filter(action="saved_search.archive").count() == 2


def test_admin_lists_archived_searches_only_when_asked(client, admin_user, search_with_history, live_search):
    client.force_login(admin_user)
    client.post(f"/admin/listening/savedsearch/{search_with_history.pk}/delete/", {"post": "yes"}, follow=True)
    default = _changelist(client)
    assert "Live search" in default and "Old search" not in default
    archived = _changelist(client, "?archived=yes")
    assert "Old search" in archived and "Live search" not in archived
    everything = _changelist(client, "?archived=all")
    assert "Old search" in everything and "Live search" in everything


def _admin_form(search, **changes):
    data = {
        "team": search.team_id, "name": search.name, "query": search.query, "purpose": search.purpose,
        "platforms": ["demo"], "interval_minutes": search.interval_minutes,
        "platform_states-TOTAL_FORMS": 0, "platform_states-INITIAL_FORMS": 0,
        "platform_states-MIN_NUM_FORMS": 0, "platform_states-MAX_NUM_FORMS": 1000,
    }
    data.update(changes)
    return data


def test_an_archived_search_cannot_be_enabled_in_admin_until_restored(client, admin_user, search_with_history):
    client.force_login(admin_user)
    client.post(f"/admin/listening/savedsearch/{search_with_history.pk}/delete/", {"post": "yes"})
    change_url = f"/admin/listening/savedsearch/{search_with_history.pk}/change/"
    response = client.post(change_url, _admin_form(search_with_history, enabled="on"))
    assert response.status_code == 200 and "Restore it first" in response.content.decode()
    search_with_history.refresh_from_db()
    assert not search_with_history.enabled

    client.post("/admin/listening/savedsearch/?archived=yes", {"action": "restore_selected", "_selected_action": [search_with_history.pk]})
    search_with_history.refresh_from_db()
    assert search_with_history.archived_at is None and not search_with_history.enabled
    assert AuditEvent.objects.filter(action="saved_search.restore", object_id=str(search_with_history.pk)).exists()
    assert client.post(change_url, _admin_form(search_with_history, enabled="on")).status_code == 302
    search_with_history.refresh_from_db()
    assert search_with_history.enabled


def test_an_archived_search_is_not_harvested(admin_user, search_with_history):
    from listening.services import saved_search_archive

    saved_search_archive(saved_search=search_with_history, actor=admin_user, ip=None)
    assert harvest_dispatch_due() == []


def test_the_app_offers_archive_and_says_the_history_is_kept(client, comms_officer, search_with_history):
    client.force_login(comms_officer)
    page = client.get(reverse("listening:saved_search_edit", args=[search_with_history.pk])).content.decode()
    archive_url = reverse("listening:saved_search_archive", args=[search_with_history.pk])
    assert f'action="{archive_url}"' in page and "harvest history are kept" in page
    response = client.post(archive_url, {"confirm": "archive"}, follow=True)
    assert "Archived “Old search”" in response.content.decode()
    _assert_archived_with_history(search_with_history, comms_officer)


def test_the_app_never_lists_or_edits_an_archived_search(client, comms_officer, search_with_history, live_search):
    client.force_login(comms_officer)
    client.post(reverse("listening:saved_search_archive", args=[search_with_history.pk]), {"confirm": "archive"}, follow=True)
    listed = client.get(reverse("listening:saved_searches")).content.decode()
    assert "Live search" in listed and "Old search" not in listed
    edit_url = reverse("listening:saved_search_edit", args=[search_with_history.pk])
    assert client.get(edit_url).status_code == 404
    assert client.post(edit_url, {"name": "Back", "enabled": "on"}).status_code == 404
    assert client.post(reverse("listening:saved_search_archive", args=[search_with_history.pk])).status_code == 404
    assert "Old search" not in client.get(reverse("listening:harvest_health")).content.decode().split("Recent runs")[0]
