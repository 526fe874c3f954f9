"""The access list, managed by admins in the app: grant, revoke, history, export, expiry, review, exclusion."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.access import access_for
from accounts.models import AccessGrant, Role
from governance.models import AuditEvent

ACCESS_URLS = [
    ("get", "accounts:access", {}), ("post", "accounts:access_grant", {}), ("post", "accounts:user_exclude", {}),
    ("get", "accounts:access_history", {}), ("get", "accounts:access_export", {}),
]


@pytest.fixture
def newcomer(django_user_model):
    return django_user_model.objects.create_user(username="nia", password="correct horse battery staple")


@pytest.fixture
def as_admin(client, admin_user):
    client.force_login(admin_user)
    return client


def _grant(client, user, team, role=Role.COMMS_OFFICER, reason="Joins the press office", expires_on=""):
    return client.post(reverse("accounts:access_grant"), {
        "user": user.id, "team": team.id, "role": role, "reason": reason, "expires_on": expires_on,
    })


def _export(client, **params):
    response = client.get(reverse("accounts:access_export"), params)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["outsider", "comms_officer", "foi_member"])
def test_no_one_but_an_admin_sees_or_changes_the_access_list(client, cast, newcomer, communications, role):
    client.force_login(cast[role])
    grant = AccessGrant.objects.get(user=cast["comms_officer"])
    urls = ACCESS_URLS + [("post", "accounts:access_revoke", {"grant_id": grant.id}),
                          ("post", "accounts:access_confirm", {"grant_id": grant.id})]
    for method, name, kwargs in urls:
        data = {"user": newcomer.id, "team": communications.id, "role": Role.ADMIN, "reason": "r", "confirm": "revoke"}
        assert getattr(client, method)(reverse(name, kwargs=kwargs), data).status_code == 403, name
    assert not AccessGrant.objects.filter(user=newcomer).exists()
    assert AccessGrant.objects.get(pk=grant.pk).is_active
    response = client.get(reverse("triage:inbox", kwargs={"slug": "communications"}))
    assert b'href="/accounts/access/"' not in response.content


@pytest.mark.django_db
def test_an_admin_grants_access_from_the_page_with_an_audit_row(as_admin, admin_user, newcomer, communications):
    page = as_admin.get(reverse("accounts:access"))
    assert page.status_code == 200 and b'href="/accounts/access/"' in page.content
    response = _grant(as_admin, newcomer, communications, reason="Covers <b>press</b> duty")
    assert response.status_code == 302
    grant = AccessGrant.objects.get(user=newcomer)
    assert (grant.role, grant.granted_by, grant.reason) == (Role.COMMS_OFFICER, admin_user, "Covers <b>press</b> duty")
    assert access_for(type(newcomer).objects.get(pk=newcomer.pk)).can_triage(communications.id)
    event = AuditEvent.objects.get(action="access.grant")
    assert event.actor == admin_user and event.details["user"] == "nia" and event.details["reason"] == "Covers <b>press</b> duty"
    body = as_admin.get(reverse("accounts:access")).content.decode()
    assert "Covers &lt;b&gt;press&lt;/b&gt; duty" in body and "<b>press</b>" not in body


@pytest.mark.django_db
def test_it_refuses_a_grant_without_a_reason_and_changes_nothing(as_admin, newcomer, communications):
    response = _grant(as_admin, newcomer, communications, reason="")
    assert response.status_code == 400 and b"This field is required" in response.content
    assert not AccessGrant.objects.filter(user=newcomer).exists()
    assert not AuditEvent.objects.filter(action="access.grant").exists()


@pytest.mark.django_db
def test_an_admin_revokes_with_a_reason_that_the_audit_row_keeps(as_admin, admin_user, comms_officer):
    grant = AccessGrant.objects.get(user=comms_officer)
    url = reverse("accounts:access_revoke", kwargs={"grant_id": grant.id})
    assert as_admin.post(url, {"confirm": "revoke", "reason": ""}).status_code == 302
    assert AccessGrant.objects.get(pk=grant.pk).revoked_at is None  # no reason, no revocation
    assert as_admin.post(url, {"reason": "Left the council"}).status_code == 400  # not the button
    assert as_admin.post(url, {"confirm": "revoke", "reason": "Left the council"}).status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_by == admin_user and grant.revoke_reason == "Left the council"
    event = AuditEvent.objects.get(action="access.revoke")
    assert event.actor == admin_user and event.details["reason"] == "Left the council"
    assert not access_for(type(comms_officer).objects.get(pk=comms_officer.pk)).has_any


@pytest.mark.django_db
def test_history_shows_every_grant_and_revocation_per_person_and_per_team(
    as_admin, admin_user, comms_officer, newcomer, communications, foi_team
):
    grant = AccessGrant.objects.get(user=comms_officer)
    as_admin.post(reverse("accounts:access_revoke", kwargs={"grant_id": grant.id}), {"confirm": "revoke", "reason": "Moved to HR"})
    _grant(as_admin, comms_officer, foi_team, role=Role.FOI_ENFORCEMENT, reason="Back as FOI lead")
    _grant(as_admin, newcomer, foi_team, reason="Cover")

    person = as_admin.get(reverse("accounts:access_history"), {"user": comms_officer.id}).content.decode()
    assert "Moved to HR" in person and "Back as FOI lead" in person and "Revoked" in person
    assert "Cover" not in person
    team = as_admin.get(reverse("accounts:access_history"), {"team": foi_team.id}).content.decode()
    assert "Back as FOI lead" in team and "Cover" in team and "Moved to HR" not in team
    assert as_admin.get(reverse("accounts:access_history"), {"user": "9" * 30}).status_code == 400


@pytest.mark.django_db
def test_the_export_holds_the_list_and_its_history_defused_and_audited(as_admin, admin_user, comms_officer, newcomer, communications):
    grant = AccessGrant.objects.get(user=comms_officer)
    as_admin.post(reverse("accounts:access_revoke", kwargs={"grant_id": grant.id}), {"confirm": "revoke", "reason": "=HYPERLINK(\"x\")"})
    _grant(as_admin, newcomer, communications, reason="+cmd|' /C calc'!A0")

    rows = _export(as_admin)
    header, lines = rows[0], {(r[0], r[12]): dict(zip(rows[0], r)) for r in rows[1:]}
    assert header[:3] == ["user", "team", "role"]
    assert lines[("carys", "revoked")]["revoke_reason"] == "'=HYPERLINK(\"x\")"
    assert lines[("carys", "revoked")]["revoked_by"] == "hamish"
    assert lines[("nia", "active")]["reason"] == "'+cmd|' /C calc'!A0"
    assert AuditEvent.objects.filter(action="access.export", actor=admin_user).count() == 1
    only_nia = _export(as_admin, user=newcomer.id)
    assert [r[0] for r in only_nia[1:]] == ["nia"]


@pytest.mark.django_db
def test_a_grant_past_its_expiry_date_gives_nothing_and_beat_revokes_it_with_a_system_audit_row(
    as_admin, newcomer, communications
):
    from accounts.tasks import expire_access_grants

    tomorrow = timezone.localdate() + timedelta(days=1)
    assert _grant(as_admin, newcomer, communications, expires_on=tomorrow.isoformat()).status_code == 302
    grant = AccessGrant.objects.get(user=newcomer)
    assert grant.expires_on == tomorrow and access_for(type(newcomer).objects.get(pk=newcomer.pk)).has_any
    assert expire_access_grants() == 0  # not yet

    AccessGrant.objects.filter(pk=grant.pk).update(expires_on=timezone.localdate())  # the day has come
    assert not access_for(type(newcomer).objects.get(pk=newcomer.pk)).has_any  # before the task runs
    assert expire_access_grants() == 1
    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.revoked_by is None
    event = AuditEvent.objects.get(action="access.revoke")
    assert event.actor is None and event.actor_label == "system" and "Expired" in event.details["reason"]
    assert expire_access_grants() == 0


@pytest.mark.django_db
def test_it_refuses_an_expiry_date_that_is_not_in_the_future(as_admin, newcomer, communications):
    response = _grant(as_admin, newcomer, communications, expires_on=timezone.localdate().isoformat())
    assert response.status_code == 400 and b"after today" in response.content
    assert not AccessGrant.objects.filter(user=newcomer).exists()


@pytest.mark.django_db
def test_beat_runs_the_expiry_task():
    from django.conf import settings

    assert any(e["task"] == "accounts.tasks.expire_access_grants" for e in settings.CELERY_BEAT_SCHEDULE.values())


@pytest.mark.django_db
def test_grants_due_for_review_are_listed_overdue_ones_warned_and_confirming_is_audited(
    as_admin, admin_user, comms_officer, foi_member, settings
):
    settings.EARSHOT_ACCESS_REVIEW_DAYS = 90
    settings.EARSHOT_ACCESS_REVIEW_NOTICE_DAYS = 14
    now = timezone.now()
    overdue = AccessGrant.objects.get(user=comms_officer)
    soon = AccessGrant.objects.get(user=foi_member)
    AccessGrant.objects.filter(pk=overdue.pk).update(confirmed_at=now - timedelta(days=91))
    AccessGrant.objects.filter(pk=soon.pk).update(confirmed_at=now - timedelta(days=80))
    AccessGrant.objects.filter(user=admin_user).update(confirmed_at=now - timedelta(days=10))

    body = as_admin.get(reverse("accounts:access")).content.decode()
    due = body.split("Due for review")[1].split("Current grants")[0]
    assert f'id="due-{overdue.id}" class="overdue"' in due and "Overdue" in due
    assert f'id="due-{soon.id}">' in due
    assert "hamish" not in due
    assert due.count("Overdue:") == 1

    response = as_admin.post(reverse("accounts:access_confirm", kwargs={"grant_id": overdue.id}), {"confirm": "confirm"})
    assert response.status_code == 302
    overdue.refresh_from_db()
    assert overdue.confirmed_by == admin_user and overdue.confirmed_at > now - timedelta(minutes=1)
    assert AuditEvent.objects.get(action="access.confirm").actor == admin_user
    due = as_admin.get(reverse("accounts:access")).content.decode().split("Due for review")[1].split("Current grants")[0]
    assert f"due-{overdue.id}" not in due and "Overdue:" not in due


@pytest.mark.django_db
def test_a_grant_is_refused_to_an_excluded_person_with_the_reason(as_admin, admin_user, newcomer, communications):
    response = as_admin.post(reverse("accounts:user_exclude"), {"user": newcomer.id, "reason": "Chief executive"})
    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.is_excluded and newcomer.excluded_by == admin_user
    assert AuditEvent.objects.get(action="access.exclude").details["reason"] == "Chief executive"

    response = _grant(as_admin, newcomer, communications)
    assert response.status_code == 400 and b"excluded from Earshot: Chief executive" in response.content
    assert not AccessGrant.objects.filter(user=newcomer).exists()

    from accounts.services import AccessRefused, access_grant_create

    with pytest.raises(AccessRefused, match="Chief executive"):
        access_grant_create(user=newcomer, team=communications, role=Role.ADMIN, granted_by=admin_user, reason="x")


@pytest.mark.django_db
def test_the_django_admin_refuses_a_grant_to_an_excluded_person(as_admin, admin_user, newcomer, communications):
    from accounts.services import user_exclude

    user_exclude(user=newcomer, reason="Board member", excluded_by=admin_user)
    response = as_admin.post("/admin/accounts/accessgrant/add/", {
        "user": newcomer.id, "team": communications.id, "role": Role.ADMIN, "reason": "x", "_save": "Save",
    })
    assert response.status_code == 200 and b"Board member" in response.content
    assert not AccessGrant.objects.filter(user=newcomer).exists()


@pytest.mark.django_db
def test_excluding_someone_who_holds_grants_revokes_them_with_audit_rows(as_admin, admin_user, comms_officer, foi_team):
    _grant(as_admin, comms_officer, foi_team, role=Role.FOI_ENFORCEMENT)
    assert AccessGrant.objects.active().filter(user=comms_officer).count() == 2
    response = as_admin.post(reverse("accounts:user_exclude"), {"user": comms_officer.id, "reason": "Director of comms"})
    assert response.status_code == 302
    assert not AccessGrant.objects.active().filter(user=comms_officer).exists()
    revocations = AuditEvent.objects.filter(action="access.revoke")
    assert revocations.count() == 2 and all(e.details["reason"] == "Excluded: Director of comms" for e in revocations)
    assert not access_for(type(comms_officer).objects.get(pk=comms_officer.pk)).has_any
    page = as_admin.get(reverse("accounts:access")).content.decode()
    assert "Director of comms" in page


@pytest.mark.django_db
def test_it_refuses_to_exclude_without_a_reason(as_admin, comms_officer):
    response = as_admin.post(reverse("accounts:user_exclude"), {"user": comms_officer.id, "reason": ""})
    assert response.status_code == 400
    comms_officer.refresh_from_db()
    assert not comms_officer.is_excluded and AccessGrant.objects.active().filter(user=comms_officer).exists()


@pytest.mark.django_db
def test_an_exclusion_is_lifted_with_a_reason_and_audited_and_old_grants_stay_revoked(
    as_admin, admin_user, comms_officer, communications
):
    from accounts.services import user_exclude

    user_exclude(user=comms_officer, reason="Interim director", excluded_by=admin_user)
    lift = reverse("accounts:user_exclusion_lift", args=[comms_officer.id])
    assert "Lift exclusion" in as_admin.get(reverse("accounts:access")).content.decode()

    refused = as_admin.post(lift, {"reason": "  "}, follow=True)
    comms_officer.refresh_from_db()
    assert comms_officer.is_excluded and "Give the reason" in refused.content.decode()

    as_admin.post(lift, {"reason": "Back to their old role"})
    comms_officer.refresh_from_db()
    assert not comms_officer.is_excluded and comms_officer.excluded_reason == ""
    event = AuditEvent.objects.get(action="access.exclusion_lifted")
    assert event.actor == admin_user
    assert event.details["reason"] == "Back to their old role" and event.details["excluded_for"] == "Interim director"
    assert not AccessGrant.objects.active().filter(user=comms_officer).exists()

    assert _grant(as_admin, comms_officer, communications).status_code == 302
    assert AccessGrant.objects.active().filter(user=comms_officer).exists()
