"""Sensitive actions ask for the password again after EARSHOT_REAUTH_MINUTES."""

import pytest
from django.urls import reverse

from accounts import middleware
from accounts.models import AccessGrant, Role
from accounts.reauth import NOT_DONE_MESSAGE
from governance.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    moment = {"now": 1_800_000_000}
    monkeypatch.setattr(middleware, "now", lambda: moment["now"])
    return moment


def _grant_payload(user, team):
    return {"user": user.pk, "team": team.pk, "role": Role.COMMS_OFFICER, "reason": "Covers the press desk"}


def test_a_grant_within_ten_minutes_of_signing_in_needs_no_password(client, admin_user, outsider, communications, clock):
    client.force_login(admin_user)
    clock["now"] += 9 * 60
    response = client.post(reverse("accounts:access_grant"), _grant_payload(outsider, communications))
    assert response.status_code == 302
    assert AccessGrant.objects.active().filter(user=outsider).exists()


def test_a_stale_grant_changes_nothing_and_asks_for_the_password(client, admin_user, outsider, communications, clock):
    client.force_login(admin_user)
    clock["now"] += 11 * 60
    access_page = reverse("accounts:access")
    response = client.post(
        reverse("accounts:access_grant"), _grant_payload(outsider, communications), HTTP_REFERER="http://testserver" + access_page
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:reauth") + "?next=%2Faccounts%2Faccess%2F"
    assert not AccessGrant.objects.filter(user=outsider).exists()

    page = client.get(response["Location"])
    assert NOT_DONE_MESSAGE in page.content.decode()

    wrong = client.post(reverse("accounts:reauth"), {"password": "not it", "next": access_page})
    assert wrong.status_code == 400 and "not right" in wrong.content.decode()
    assert not AuditEvent.objects.filter(action="reauthenticated").exists()

    right = client.post(reverse("accounts:reauth"), {"password": "correct horse battery staple", "next": access_page})
    assert right.status_code == 302 and right["Location"] == access_page
    assert AuditEvent.objects.filter(action="reauthenticated", actor=admin_user).count() == 1

    again = client.post(reverse("accounts:access_grant"), _grant_payload(outsider, communications))
    assert again.status_code == 302
    assert AccessGrant.objects.active().filter(user=outsider).exists()


def test_htmx_is_sent_to_confirm_by_a_client_redirect(client, admin_user, outsider, communications, clock):
    client.force_login(admin_user)
    clock["now"] += 11 * 60
    response = client.post(
        reverse("accounts:access_grant"), _grant_payload(outsider, communications),
        HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/accounts/access/",
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("accounts:reauth"))
    assert not AccessGrant.objects.filter(user=outsider).exists()


def test_next_never_leaves_the_site(client, admin_user, clock):
    client.force_login(admin_user)
    response = client.post(reverse("accounts:reauth"), {"password": "correct horse battery staple", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"
