"""Inviting a new person by email: a one-time set-password link that expires."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core import mail
from django.urls import reverse

from accounts import middleware
from accounts.invitations import InvitationTokenGenerator
from accounts.models import AccessGrant, Role
from governance.models import AuditEvent

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long new password for Jo"


@pytest.fixture
def eager():
    """Run tasks in this process, as a worker would."""
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _invite(client, communications, headers=None, **extra):
    data = {"username": "jo", "email": "jo@example.org", "first_name": "Jo", "last_name": "<b>Bloggs</b>",
            "team": communications.pk, "role": Role.COMMS_OFFICER, "reason": "Joins the press desk", **extra}
    return client.post(reverse("accounts:invite"), data, headers=headers)


def _link_path(message) -> str:
    link = re.search(r"http://\S+/accounts/invitation/\S+/", message.body).group(0)
    return link.removeprefix("http://127.0.0.1:8000")


@pytest.fixture
def invited(client, admin_user, communications, eager, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(client, communications)
    assert response.status_code == 302
    client.logout()
    return get_user_model().objects.get(username="jo")


def test_an_admin_invites_someone_with_a_first_grant_and_it_is_audited(invited, admin_user, communications):
    assert not invited.has_usable_password()
    assert invited.email == "jo@example.org"
    grant = AccessGrant.objects.active().get(user=invited)
    assert (grant.team, grant.role, grant.reason, grant.granted_by) == (communications, Role.COMMS_OFFICER, "Joins the press desk", admin_user)
    sent = AuditEvent.objects.get(action="invitation.send")
    assert sent.actor == admin_user and sent.details["email"] == "jo@example.org" and sent.details["valid_days"] == 3
    assert AuditEvent.objects.filter(action="access.grant", object_id=str(grant.pk)).exists()

    [message] = mail.outbox
    assert message.to == ["jo@example.org"] and message.subject == "You are invited to Earshot"
    assert "&lt;b&gt;Bloggs&lt;/b&gt;" in message.body and "<b>" not in message.body
    assert "works once, for 3 days" in message.body


def test_the_link_sets_a_password_once(client, invited, communications):
    link = _link_path(mail.outbox[0])
    page = client.get(link)
    assert page.status_code == 200 and 'name="new_password1"' in page.content.decode()

    weak = client.post(link, {"new_password1": "short", "new_password2": "short"})
    assert weak.status_code == 400
    invited.refresh_from_db()
    assert not invited.has_usable_password()

    done = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("accounts:login")
    assert SESSION_KEY not in client.session  # setting the password does not sign in: the sign-in form does
    assert AuditEvent.objects.get(action="invitation.accept").actor == invited

    # The link works once.
    for response in (client.get(link), client.post(link, {"new_password1": "another long password 1", "new_password2": "another long password 1"})):
        assert response.status_code == 400 and "no longer works" in response.content.decode()
    invited.refresh_from_db()
    assert invited.check_password(NEW_PASSWORD)

    signed_in = client.post(reverse("accounts:login"), {"username": "jo", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302
    assert client.get(reverse("triage:inbox", args=[communications.slug])).status_code == 200


def test_the_link_expires_after_the_set_number_of_days(client, invited, monkeypatch, settings):
    link = _link_path(mail.outbox[0])
    real_now = InvitationTokenGenerator._now

    def days_later(days):
        monkeypatch.setattr(InvitationTokenGenerator, "_now", lambda self: real_now(self) + timedelta(days=days))

    days_later(2.9)
    assert client.get(link).status_code == 200
    days_later(3.01)
    expired = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert expired.status_code == 400 and "no longer works" in expired.content.decode()
    invited.refresh_from_db()
    assert not invited.has_usable_password()
    assert not AuditEvent.objects.filter(action="invitation.accept").exists()
    settings.EARSHOT_INVITATION_DAYS = 5
    assert client.get(link).status_code == 200


def test_a_forged_or_mangled_link_is_refused(client, invited):
    link = _link_path(mail.outbox[0])
    uid, token = link.strip("/").split("/")[-2:]
    for uid_, token_ in ((uid, token[:-1] + ("a" if token[-1] != "a" else "b")), ("MTIzNDU2Nzg5", token), ("%%%", token),
                         (uid, "x" * 200), (uid, "nodash")):
        response = client.get(reverse("accounts:invitation_accept", kwargs={"uidb64": uid_, "token": token_}))
        assert response.status_code == 400, (uid_, token_)


def test_an_invitation_without_a_grant_and_bad_invitations_change_nothing(
    client, admin_user, communications, eager, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    before = get_user_model().objects.count()
    for extra, message in (
        ({"role": ""}, "Choose both a team and a role"),
        ({"reason": " "}, "Give the reason"),
        ({"username": "hamish"}, "already has that username"),
        ({"email": "not an address"}, "Enter a valid email address"),
        ({"username": "jo bloggs"}, "Enter a valid username"),
    ):
        response = _invite(client, communications, **extra)
        assert response.status_code == 400 and message in response.content.decode(), extra
    assert get_user_model().objects.count() == before and not AuditEvent.objects.filter(action="invitation.send").exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(client, communications, team="", role="", reason="")
    assert response.status_code == 302
    person = get_user_model().objects.get(username="jo")
    assert not person.grants.exists() and len(mail.outbox) == 1


def test_inviting_is_for_admins_and_asks_for_the_password_again(client, comms_officer, admin_user, communications, monkeypatch):
    client.force_login(comms_officer)
    assert client.get(reverse("accounts:invite")).status_code == 403
    assert _invite(client, communications).status_code == 403
    moment = {"now": 1_800_000_000}
    monkeypatch.setattr(middleware, "now", lambda: moment["now"])
    client.force_login(admin_user)
    moment["now"] += 11 * 60
    assert client.get(reverse("accounts:invite")).status_code == 200
    response = _invite(client, communications, headers={"Referer": "http://testserver" + reverse("accounts:invite")})
    assert response["Location"].startswith(reverse("accounts:reauth"))
    assert not get_user_model().objects.filter(username="jo").exists()


# Invitations not yet accepted: listed, sent again, withdrawn.


def _resend(client, person, **headers):
    return client.post(reverse("accounts:invitation_resend", args=[person.pk]), **headers)


def _withdraw(client, person, reason="Started elsewhere"):
    return client.post(reverse("accounts:invitation_withdraw", args=[person.pk]), {"reason": reason})


def test_a_pending_invitation_is_listed_with_when_its_link_stops_working(client, invited, admin_user, settings):
    client.force_login(admin_user)
    page = client.get(reverse("accounts:invite")).content.decode()
    assert 'id="invitation-%d"' % invited.pk in page and "jo@example.org" in page and "Works until" in page
    assert "&lt;b&gt;Bloggs&lt;/b&gt;" in page and "<b>Bloggs" not in page and "Expired" not in page
    settings.EARSHOT_INVITATION_DAYS = 0  # the link's time has run out
    assert "<strong>Expired</strong>" in client.get(reverse("accounts:invite")).content.decode()


def test_an_expired_invitation_sent_again_gets_a_fresh_link_that_works(
    client, invited, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    first = _link_path(mail.outbox[0])
    real_now = InvitationTokenGenerator._now
    monkeypatch.setattr(InvitationTokenGenerator, "_now", lambda self: real_now(self) + timedelta(days=4))
    assert client.get(first).status_code == 400  # expired
    monkeypatch.setattr(InvitationTokenGenerator, "_now", real_now)

    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = _resend(client, invited)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:invite")
    assert len(mail.outbox) == 2 and mail.outbox[1].to == ["jo@example.org"]
    resent = AuditEvent.objects.get(action="invitation.resend")
    assert resent.actor == admin_user and resent.object_id == str(invited.pk)
    page = client.get(reverse("accounts:invite")).content.decode()
    assert "(sent 2 times)" in page
    client.logout()

    fresh = _link_path(mail.outbox[1])
    monkeypatch.setattr(InvitationTokenGenerator, "_now", lambda self: real_now(self) + timedelta(days=2))
    done = client.post(fresh, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    invited.refresh_from_db()
    assert invited.check_password(NEW_PASSWORD)
    # Accepted: no longer pending, and nothing more can be sent.
    client.force_login(admin_user)
    assert 'id="invitation-%d"' % invited.pk not in client.get(reverse("accounts:invite")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        refused = _resend(client, invited)
    assert refused.status_code == 302 and len(mail.outbox) == 2
    assert AuditEvent.objects.filter(action="invitation.resend").count() == 1


def test_withdrawing_an_invitation_deactivates_the_account_revokes_its_grants_and_kills_its_links(
    client, invited, admin_user
):
    link = _link_path(mail.outbox[0])
    client.force_login(admin_user)
    for bad in ("  ", "x" * 301):
        assert _withdraw(client, invited, reason=bad).status_code == 302
        invited.refresh_from_db()
        assert invited.is_active and not AuditEvent.objects.filter(action="invitation.withdraw").exists()
    assert "at most 300 characters" in client.get(reverse("accounts:invite")).content.decode()

    assert _withdraw(client, invited).status_code == 302
    invited.refresh_from_db()
    assert not invited.is_active and not AccessGrant.objects.active().filter(user=invited).exists()
    withdrawn = AuditEvent.objects.get(action="invitation.withdraw")
    assert withdrawn.actor == admin_user and withdrawn.details["reason"] == "Started elsewhere"
    revoke = AuditEvent.objects.get(action="access.revoke")
    assert revoke.details["reason"] == "Invitation withdrawn: Started elsewhere"
    assert 'id="invitation-%d"' % invited.pk not in client.get(reverse("accounts:invite")).content.decode()
    client.logout()
    assert client.get(link).status_code == 400


def test_only_admins_send_again_or_withdraw_and_a_stale_sign_in_confirms_first(
    client, invited, comms_officer, admin_user, monkeypatch
):
    client.force_login(comms_officer)
    assert _resend(client, invited).status_code == 403 and _withdraw(client, invited).status_code == 403
    moment = {"now": 1_800_000_000}
    monkeypatch.setattr(middleware, "now", lambda: moment["now"])
    client.force_login(admin_user)
    moment["now"] += 11 * 60
    response = _withdraw(client, invited)
    assert response["Location"].startswith(reverse("accounts:reauth"))
    invited.refresh_from_db()
    assert invited.is_active
    assert client.get(reverse("accounts:invitation_withdraw", args=[invited.pk])).status_code == 405
