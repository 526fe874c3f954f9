"""Writes made through Django admin land in the append-only audit log, in the same transaction."""

import json

import pytest
from django.contrib import admin
from django.test import RequestFactory

from accounts.models import Team
from config.admin import EarshotAdminSite
from governance.admin import AuditedAdminMixin
from governance.models import AuditEvent
from listening.models import SavedSearch, SavedSearchPlatform, WatchList, WatchListMember

NEW_PASSWORD = "Lighthouse keeper 4 sale!"


@pytest.fixture
def as_admin(client, admin_user):
    client.force_login(admin_user)
    return client


def _events(action, obj):
    return AuditEvent.objects.filter(action=action, object_type=obj._meta.label_lower, object_id=str(obj.pk))


def _management(prefix, total=0, initial=0):
    return {f"{prefix}-TOTAL_FORMS": total, f"{prefix}-INITIAL_FORMS": initial,
            f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000}


def test_every_model_registered_in_admin_audits_its_writes():
    unaudited = [model._meta.label for model, model_admin in admin.site._registry.items()
                 if not isinstance(model_admin, AuditedAdminMixin)]
    assert admin.site._registry and not unaudited


def test_it_audits_a_model_registered_with_a_plain_model_admin():
    site = EarshotAdminSite(name="probe")
    site.register(Team, admin.ModelAdmin)
    site.register(WatchList)
    assert isinstance(site._registry[Team], AuditedAdminMixin)
    assert isinstance(site._registry[WatchList], AuditedAdminMixin)


def test_a_password_set_in_admin_is_audited_naming_the_person_and_never_the_password(as_admin, admin_user, comms_officer):
    url = f"/admin/accounts/user/{comms_officer.pk}/password/"
    refused = as_admin.post(url, {"password1": NEW_PASSWORD, "password2": "something else", "usable_password": "true"})
    assert refused.status_code == 200  # a form error saves nothing, so it records nothing
    response = as_admin.post(url, {
        "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true",
    })
    assert response.status_code == 302
    comms_officer.refresh_from_db()
    assert comms_officer.check_password(NEW_PASSWORD)
    event = _events("admin.password_change", comms_officer).get()
    assert event.actor == admin_user and event.ip == "127.0.0.1"
    assert event.details["user"] == "carys" and event.details["fields"] == ["password"]
    stored = json.dumps(event.details) + event.object_repr
    assert NEW_PASSWORD not in stored and comms_officer.password not in stored
    assert "pbkdf2" not in stored and "argon2" not in stored


def test_a_user_added_in_admin_is_audited_without_the_password(as_admin, admin_user, django_user_model):
    response = as_admin.post("/admin/accounts/user/add/", {
        "username": "newcomer", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true",
    })
    assert response.status_code == 302
    newcomer = django_user_model.objects.get(username="newcomer")
    event = _events("admin.add", newcomer).get()
    assert event.actor == admin_user
    assert event.details["fields"] == ["password", "username"]
    assert NEW_PASSWORD not in json.dumps(event.details) and newcomer.password not in json.dumps(event.details)


def test_a_user_changed_in_admin_names_the_changed_fields(as_admin, comms_officer):
    response = as_admin.post(f"/admin/accounts/user/{comms_officer.pk}/change/", {
        "username": "carys", "first_name": "Carys", "last_name": "", "email": "", "is_active": "",
    })
    assert response.status_code == 302
    event = _events("admin.change", comms_officer).get()
    assert event.details == {"via": "admin", "fields": ["first_name", "is_active"]}


def test_a_team_change_names_the_changed_fields(as_admin, admin_user, communications):
    response = as_admin.post(f"/admin/accounts/team/{communications.pk}/change/", {
        "name": "Communications", "slug": "communications", "description": "", "email": "press@example.org",
    })
    assert response.status_code == 302
    event = _events("admin.change", communications).get()
    assert event.actor == admin_user and event.ip == "127.0.0.1"
    assert event.details == {"via": "admin", "fields": ["email"]}


def test_a_team_added_and_deleted_in_admin_is_audited(as_admin):
    as_admin.post("/admin/accounts/team/add/", {"name": "Legal", "slug": "legal", "description": "", "email": ""})
    team = Team.objects.get(slug="legal")
    assert _events("admin.add", team).get().details["fields"] == ["name", "slug"]
    response = as_admin.post(f"/admin/accounts/team/{team.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Team.objects.filter(slug="legal").exists()
    event = AuditEvent.objects.get(action="admin.delete", object_type="accounts.team", object_id=str(team.pk))
    assert event.object_repr == "Legal"


def test_a_watch_list_edit_names_its_fields_and_its_member_changes(as_admin):
    watch_list = WatchList.objects.create(name="tech journalists")
    member = WatchListMember.objects.create(watch_list=watch_list, platform="x", handle="olduser")
    response = as_admin.post(f"/admin/listening/watchlist/{watch_list.pk}/change/", {
        "name": "tech journalists", "description": "Who writes about us", "x_list_id": "",
        **_management("members", total=2, initial=1),
        "members-0-id": member.pk, "members-0-watch_list": watch_list.pk,
        "members-0-platform": "x", "members-0-handle": "olduser", "members-0-DELETE": "on",
        "members-1-watch_list": watch_list.pk, "members-1-platform": "bluesky", "members-1-handle": "newuser",
    })
    assert response.status_code == 302
    event = _events("admin.change", watch_list).get()
    assert event.details["fields"] == ["description"]
    added = WatchListMember.objects.get(handle="newuser")
    # Members are named by id and platform: a handle in the audit log could never be erased from it.
    assert event.details["inlines"] == [{
        "model": "listening.watchlistmember",
        "added": [f"watch list member {added.pk} (Bluesky)"], "changed": [], "deleted": ["a watch list member (X)"],
    }]
    assert "olduser" not in json.dumps(event.details) and "newuser" not in json.dumps(event.details)


def test_deleting_watch_lists_in_bulk_audits_each_one_once_confirmed(as_admin):
    lists = [WatchList.objects.create(name=name) for name in ("one", "two")]
    selected = {"action": "delete_selected", "_selected_action": [w.pk for w in lists]}
    assert as_admin.post("/admin/listening/watchlist/", selected).status_code == 200  # the confirmation page
    assert not AuditEvent.objects.filter(action__startswith="admin.").exists()
    response = as_admin.post("/admin/listening/watchlist/", {**selected, "post": "yes"})
    assert response.status_code == 302 and not WatchList.objects.exists()
    for watch_list in lists:
        event = AuditEvent.objects.get(action="admin.delete", object_type="listening.watchlist", object_id=str(watch_list.pk))
        assert event.details == {"via": "admin", "bulk": True}


def test_a_grant_made_in_admin_is_audited_with_the_admins_address(as_admin, admin_user, communications, django_user_model):
    newcomer = django_user_model.objects.create_user(username="newcomer", password="x" * 16)
    as_admin.post("/admin/accounts/accessgrant/add/", {
        "user": newcomer.pk, "team": communications.pk, "role": "comms_officer", "reason": "Joined the press office",
    })
    grant = newcomer.grants.get()
    event = _events("access.grant", grant).get()  # one row: the service's, not a second generic one
    assert AuditEvent.objects.filter(object_type="accounts.accessgrant", object_id=str(grant.pk)).count() == 1
    assert event.actor == admin_user and event.ip == "127.0.0.1"


def test_revoking_grants_in_admin_goes_through_the_service_and_names_who_lost_access(as_admin, admin_user, comms_officer):
    grant = comms_officer.grants.get()
    response = as_admin.post("/admin/accounts/accessgrant/", {"action": "revoke_grants", "_selected_action": [grant.pk]})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.revoked_by == admin_user
    event = _events("access.revoke", grant).get()
    assert event.ip == "127.0.0.1"
    assert event.details == {"user": "carys", "team": "Communications", "role": "comms_officer"}


def test_a_saved_search_changed_in_admin_goes_through_the_service_and_lists_the_changed_fields(as_admin, admin_user, communications):
    search = SavedSearch.objects.create(team=communications, name="the ICO", query='"the ICO"', interval_minutes=5)
    state = SavedSearchPlatform.objects.create(saved_search=search, platform="demo")
    response = as_admin.post(f"/admin/listening/savedsearch/{search.pk}/change/", {
        "team": communications.pk, "name": "the ICO", "query": '"the ICO" OR ICO', "purpose": "engagement",
        "platforms": ["demo", "bluesky"], "interval_minutes": 15, "enabled": "on",
        **_management("platform_states", total=1, initial=1), "platform_states-0-id": state.pk,
        "platform_states-0-saved_search": search.pk,
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    search.refresh_from_db()
    assert search.interval_minutes == 15 and sorted(search.platforms) == ["bluesky", "demo"]
    event = _events("saved_search.update", search).get()
    assert event.actor == admin_user and event.ip == "127.0.0.1"
    assert event.details["fields"] == ["interval_minutes", "platforms", "query"]
    assert not AuditEvent.objects.filter(action="admin.change").exists()


def test_a_saved_search_added_in_admin_gets_its_platforms_and_one_create_event(as_admin, admin_user, communications):
    response = as_admin.post("/admin/listening/savedsearch/add/", {
        "team": communications.pk, "name": "Fee scams", "query": '"data protection fee"', "purpose": "engagement",
        "platforms": ["demo"], "interval_minutes": 5, "enabled": "on", **_management("platform_states"),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    search = SavedSearch.objects.get(name="Fee scams")
    assert search.owner == admin_user and search.platforms == ["demo"]
    event = AuditEvent.objects.get(object_type="listening.savedsearch", object_id=str(search.pk))
    assert event.action == "saved_search.create" and "query" in event.details["fields"]


def test_a_custom_action_without_its_own_audit_gets_an_event_per_object(admin_user, communications):
    def shout(modeladmin, request, queryset):
        for team in queryset:
            team.description = team.description.upper()
            team.save()

    site = EarshotAdminSite(name="probe")
    site.register(Team, admin.ModelAdmin, actions=[shout])
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.7")
    request.user = admin_user
    model_admin = site._registry[Team]
    func, name, _ = model_admin.get_actions(request)["shout"]
    func(model_admin, request, Team.objects.all())
    event = _events("admin.action", communications).get()
    assert event.actor == admin_user and event.ip == "192.0.2.7"
    assert event.details == {"via": "admin", "action": "shout", "selected": 1}


class AuditWriteFailed(Exception):
    pass


def _failing_audit(**kwargs):
    raise AuditWriteFailed


def test_a_password_is_not_changed_when_its_audit_row_cannot_be_written(as_admin, comms_officer, monkeypatch):
    monkeypatch.setattr("accounts.admin.audit_event_record", _failing_audit)
    with pytest.raises(AuditWriteFailed):
        as_admin.post(f"/admin/accounts/user/{comms_officer.pk}/password/", {
            "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true",
        })
    comms_officer.refresh_from_db()
    assert not comms_officer.check_password(NEW_PASSWORD)


def test_a_bulk_delete_leaves_no_partial_audit_when_a_row_cannot_be_written(as_admin, monkeypatch):
    from governance.services import audit_event_record

    lists = [WatchList.objects.create(name=name) for name in ("one", "two")]
    calls = []

    def second_write_fails(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise AuditWriteFailed
        return audit_event_record(**kwargs)

    monkeypatch.setattr("governance.admin.audit_event_record", second_write_fails)
    with pytest.raises(AuditWriteFailed):
        as_admin.post("/admin/listening/watchlist/", {
            "action": "delete_selected", "_selected_action": [w.pk for w in lists], "post": "yes",
        })
    assert WatchList.objects.count() == 2
    assert not AuditEvent.objects.filter(action="admin.delete").exists()
