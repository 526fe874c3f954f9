"""Two-factor sign-in: enrolment, the code step, recovery codes, enforcement, resets and re-authentication.

These tests sign in through the real forms: sessions made by `force_login` count as
having given a code (tests/conftest.py), which is what these tests must not assume.
"""

import re
import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import middleware
from accounts.models import AccessGrant, Role
from governance.models import AuditEvent
from tests.support import totp_code, totp_device_for

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def inbox_url(communications):
    return reverse("triage:inbox", args=[communications.slug])


def _password_step(client, username, **extra):
    return client.post(reverse("accounts:login"), {"username": username, "password": PASSWORD, **extra})


def _code_step(client, code, **extra):
    return client.post(reverse("accounts:login_code"), {"code": code, **extra})


def _signed_in(client):
    return SESSION_KEY in client.session


def _enrolled_admin(client, admin_user):
    """hamish, signed in through the forms, having enrolled: returns his device and recovery codes."""
    _password_step(client, "hamish")
    client.post(reverse("accounts:totp_enrol"), {"confirm": "start"})
    device = TOTPDevice.objects.get(user=admin_user)
    page = client.post(reverse("accounts:totp_enrol"), {"code": totp_code(device)})
    return device, page.context["codes"]


# Enforcement


def test_an_admin_without_a_device_is_sent_to_enrolment_before_anything_else(client, admin_user, inbox_url):
    response = _password_step(client, "hamish")
    assert response.status_code == 302 and _signed_in(client)  # no device yet: the password alone signs in
    enrol = reverse("accounts:totp_enrol")
    for url in (inbox_url, reverse("home"), reverse("accounts:access"), "/admin/", reverse("accounts:two_factor")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == enrol, url
    htmx = client.get(inbox_url, HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"] == enrol
    # Except the enrolment page itself, static files and signing out.
    assert client.get(enrol).status_code == 200
    assert client.get("/static/css/earshot.css").status_code == 200
    assert client.post(reverse("accounts:logout")).status_code == 302 and not _signed_in(client)


def test_it_is_optional_for_others_unless_a_setting_requires_it_for_all(client, comms_officer, inbox_url, settings):
    _password_step(client, "carys")
    assert client.get(inbox_url).status_code == 200
    settings.EARSHOT_TOTP_REQUIRED_FOR_ALL = True
    assert client.get(inbox_url)["Location"] == reverse("accounts:totp_enrol")


def test_a_session_that_never_gave_a_code_is_signed_out_once_a_device_exists(client, admin_user, inbox_url):
    totp_device_for(admin_user)
    client.force_login(admin_user)
    session = client.session
    del session[DEVICE_ID_SESSION_KEY]  # as if signed in before the requirement applied
    session.save()
    response = client.get(inbox_url)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    assert not _signed_in(client)
    assert "Sign in again with a code" in client.get(response["Location"]).content.decode()


# Enrolment


def test_enrolment_shows_a_server_drawn_qr_code_and_the_secret_and_needs_a_code(client, admin_user, inbox_url):
    from base64 import b32encode

    _password_step(client, "hamish")
    page = client.get(reverse("accounts:totp_enrol")).content.decode()
    assert 'value="start"' in page and "<svg" not in page
    assert not TOTPDevice.objects.exists()

    client.post(reverse("accounts:totp_enrol"), {"confirm": "start"})
    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    assert AuditEvent.objects.filter(action="totp.enrol", actor=admin_user).count() == 1
    page = client.get(reverse("accounts:totp_enrol")).content.decode()
    # The QR code is inline SVG drawn on the server; the secret is there to type in.
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and "<path" in page and "<img" not in page
    assert " ".join(b32encode(device.bin_key).decode()[i:i + 4] for i in range(0, 32, 4)) in page
    assert client.get(reverse("accounts:totp_enrol")).content.decode().count("<svg") == 1
    assert TOTPDevice.objects.filter(user=admin_user).count() == 1  # reloading keeps the same device

    wrong = client.post(reverse("accounts:totp_enrol"), {"code": "000000" if totp_code(device) != "000000" else "111111"})
    assert wrong.status_code == 400 and "not right" in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get(inbox_url)["Location"] == reverse("accounts:totp_enrol")  # still not enrolled

    time.sleep(1.1)  # django-otp makes the next try after a wrong code wait a second
    done = client.post(reverse("accounts:totp_enrol"), {"code": totp_code(device)})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 == len(set(codes))
    body = done.content.decode()
    assert all(code in body for code in codes) and "shown only once" in body
    device.refresh_from_db()
    assert device.confirmed
    assert set(StaticToken.objects.filter(device__user=admin_user).values_list("token", flat=True)) == set(codes)
    assert AuditEvent.objects.get(action="totp.confirm").details == {"user": "hamish", "recovery_codes": 10}
    # The session that enrolled counts as having given a code.
    assert client.get(inbox_url).status_code == 200
    # And the codes are never shown again.
    assert not any(code in client.get(reverse("accounts:two_factor")).content.decode() for code in codes)
    assert client.get(reverse("accounts:totp_enrol"))["Location"] == reverse("accounts:two_factor")


# Signing in


def test_sign_in_asks_for_a_code_after_the_password(client, admin_user, inbox_url):
    device = totp_device_for(admin_user)
    response = _password_step(client, "hamish", next=inbox_url)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login_code") + "?next=%2Finbox%2Fcommunications%2F"
    assert not _signed_in(client)
    assert client.get(inbox_url)["Location"].startswith(reverse("accounts:login"))

    wrong = _code_step(client, "12345", next=inbox_url)  # not even six digits
    assert wrong.status_code == 400 and not _signed_in(client)
    assert AuditEvent.objects.filter(action="login_failed", actor_label="hamish").count() == 1
    assert not AuditEvent.objects.filter(action="login").exists()

    right = _code_step(client, totp_code(device), next=inbox_url)
    assert right.status_code == 302 and right["Location"] == inbox_url
    assert _signed_in(client)
    assert AuditEvent.objects.filter(action="login", actor=admin_user).count() == 1
    assert client.get(inbox_url).status_code == 200


def test_a_code_works_only_once(client, admin_user):
    device = totp_device_for(admin_user)
    _password_step(client, "hamish")
    code = totp_code(device)
    assert _code_step(client, code).status_code == 302
    client.post(reverse("accounts:logout"))
    _password_step(client, "hamish")
    assert _code_step(client, code).status_code == 400  # replayed
    assert not _signed_in(client)


def test_the_code_step_lapses_and_needs_the_password_first(client, admin_user, monkeypatch):
    device = totp_device_for(admin_user)
    assert _code_step(client, totp_code(device))["Location"] == reverse("accounts:login")  # no password given
    moment = {"now": 1_800_000_000}
    monkeypatch.setattr(middleware, "now", lambda: moment["now"])
    _password_step(client, "hamish")
    moment["now"] += 5 * 60
    response = _code_step(client, totp_code(device))
    assert response["Location"] == reverse("accounts:login") and not _signed_in(client)


def test_a_recovery_code_works_once_and_its_use_is_audited(client, admin_user, inbox_url):
    device, codes = _enrolled_admin(client, admin_user)
    client.post(reverse("accounts:logout"))

    _password_step(client, "hamish")
    response = _code_step(client, codes[3].upper())  # as typed from paper
    assert response.status_code == 302 and _signed_in(client)
    assert client.get(inbox_url).status_code == 200
    used = AuditEvent.objects.get(action="totp.recovery_code_used")
    assert used.actor == admin_user and used.details["recovery_codes_left"] == 9
    assert StaticToken.objects.filter(device__user=admin_user).count() == 9
    client.post(reverse("accounts:logout"))

    _password_step(client, "hamish")
    again = _code_step(client, codes[3])
    assert again.status_code == 400 and not _signed_in(client)
    assert AuditEvent.objects.filter(action="totp.recovery_code_used").count() == 1


def test_wrong_codes_are_throttled_and_lock_out_like_wrong_passwords(client, admin_user):
    device = totp_device_for(admin_user)
    _password_step(client, "hamish")
    first = _code_step(client, "000001")
    assert "not right" in first.content.decode()
    second = _code_step(client, totp_code(device))  # even the right code waits after a wrong one
    assert second.status_code == 400 and "wait a moment" in second.content.decode()
    for _ in range(3):
        response = _code_step(client, "000001")
    # Five failures for one name from one address: locked out, the password step too.
    assert response.status_code == 429
    assert AuditEvent.objects.filter(action="login_failed", actor_label="hamish").count() == 5
    assert _password_step(client, "hamish").status_code == 429
    assert not _signed_in(client)


# Re-authentication


def test_a_person_with_a_device_may_confirm_a_sensitive_action_with_a_code(client, admin_user, outsider, communications, monkeypatch):
    moment = {"now": 1_800_000_000}
    monkeypatch.setattr(middleware, "now", lambda: moment["now"])
    device = totp_device_for(admin_user)
    _password_step(client, "hamish")
    _code_step(client, totp_code(device))
    moment["now"] += 11 * 60
    grant = {"user": outsider.pk, "team": communications.pk, "role": Role.COMMS_OFFICER, "reason": "Press desk"}
    stale = client.post(reverse("accounts:access_grant"), grant)
    assert stale["Location"].startswith(reverse("accounts:reauth"))
    assert not AccessGrant.objects.filter(user=outsider).exists()

    page = client.get(stale["Location"]).content.decode()
    assert 'name="code"' in page
    wrong = client.post(reverse("accounts:reauth"), {"code": "000001"})
    assert wrong.status_code == 400 and "not right" in wrong.content.decode()
    time.sleep(1.1)
    right = client.post(reverse("accounts:reauth"), {"code": totp_code(device), "next": reverse("accounts:access")})
    assert right.status_code == 302 and right["Location"] == reverse("accounts:access")
    assert AuditEvent.objects.get(action="reauthenticated").details == {"with": "code"}
    assert client.post(reverse("accounts:access_grant"), grant).status_code == 302
    assert AccessGrant.objects.active().filter(user=outsider).exists()


def test_reauthentication_takes_no_recovery_code(client, admin_user, monkeypatch):
    device, codes = _enrolled_admin(client, admin_user)
    response = client.post(reverse("accounts:reauth"), {"code": codes[0]})
    assert response.status_code == 400
    assert StaticToken.objects.filter(token=codes[0]).exists()


def test_the_password_is_asked_again_after_ten_minutes_of_activity_and_the_session_ends_after_thirty_idle(
    client, admin_user, inbox_url, monkeypatch
):
    moment = {"now": 1_800_000_000}
    monkeypatch.setattr(middleware, "now", lambda: moment["now"])
    device = totp_device_for(admin_user)
    _password_step(client, "hamish")
    _code_step(client, totp_code(device))
    for _ in range(3):  # busy, never idle...
        moment["now"] += 5 * 60
        assert client.get(inbox_url).status_code == 200
    # ...but the code was given 15 minutes ago: a sensitive page asks again.
    assert client.get("/admin/accounts/accessgrant/add/")["Location"].startswith(reverse("accounts:reauth"))
    moment["now"] += 30 * 60
    response = client.get(inbox_url)
    assert response["Location"].startswith(reverse("accounts:login")) and not _signed_in(client)


def test_django_admin_pages_that_change_grants_or_passwords_ask_for_the_password_again(client, admin_user, comms_officer, monkeypatch):
    moment = {"now": 1_800_000_000}
    monkeypatch.setattr(middleware, "now", lambda: moment["now"])
    client.force_login(admin_user)
    grant = AccessGrant.objects.get(user=comms_officer)
    guarded = [
        "/admin/accounts/accessgrant/add/", f"/admin/accounts/accessgrant/{grant.pk}/change/",
        f"/admin/accounts/user/{comms_officer.pk}/change/", f"/admin/accounts/user/{comms_officer.pk}/password/",
        "/admin/accounts/user/add/",
    ]
    for url in guarded:
        assert client.get(url).status_code == 200, url
    moment["now"] += 11 * 60
    assert client.get("/admin/accounts/accessgrant/").status_code == 200  # reading the list needs nothing more
    for url in guarded:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:reauth")), url
    action = client.post("/admin/accounts/accessgrant/", {"action": "revoke_grants", "_selected_action": [grant.pk]})
    assert action["Location"].startswith(reverse("accounts:reauth"))
    grant.refresh_from_db()
    assert grant.revoked_at is None


# Managing one's own device, and an admin's reset


def test_new_recovery_codes_replace_the_old_ones(client, admin_user):
    device, codes = _enrolled_admin(client, admin_user)
    response = client.post(reverse("accounts:recovery_codes"), {"confirm": "regenerate"})
    new_codes = response.context["codes"]
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(new_codes)
    assert AuditEvent.objects.filter(action="totp.recovery_codes_regenerate", actor=admin_user).count() == 1
    assert client.post(reverse("accounts:recovery_codes"), {"confirm": "x"}).status_code == 400


def test_removing_ones_own_device_is_audited_and_an_admin_must_enrol_again(client, admin_user, inbox_url):
    _enrolled_admin(client, admin_user)
    response = client.post(reverse("accounts:totp_remove"), {"confirm": "remove"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists()
    assert AuditEvent.objects.get(action="totp.remove").actor == admin_user
    assert _signed_in(client)
    assert client.get(inbox_url)["Location"] == reverse("accounts:totp_enrol")


def test_an_admin_resets_someone_elses_device_and_signs_them_out(client, admin_user, comms_officer, inbox_url):
    from django.test import Client

    device = totp_device_for(comms_officer)
    carys = Client()
    _password_step(carys, "carys")
    _code_step(carys, totp_code(device))
    assert carys.get(inbox_url).status_code == 200

    client.force_login(admin_user)
    page = client.get(reverse("accounts:access")).content.decode()
    assert "Reset two-factor" in page
    refused = client.post(reverse("accounts:totp_reset"), {"user": comms_officer.pk, "reason": ""})
    assert refused.status_code == 400 and TOTPDevice.objects.filter(user=comms_officer).exists()

    response = client.post(reverse("accounts:totp_reset"), {"user": comms_officer.pk, "reason": "Lost her phone"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=comms_officer).exists()
    event = AuditEvent.objects.get(action="totp.reset")
    assert event.actor == admin_user and event.details == {"user": "carys", "devices": 1, "reason": "Lost her phone"}
    assert carys.get(inbox_url).status_code == 302  # signed out everywhere
    # She signs in with her password alone now (two-factor is optional for her).
    _password_step(carys, "carys")
    assert carys.get(inbox_url).status_code == 200


def test_resetting_a_device_is_refused_to_non_admins_and_asks_for_the_password_again(
    client, admin_user, comms_officer, monkeypatch
):
    totp_device_for(admin_user)
    client.force_login(comms_officer)
    assert client.post(reverse("accounts:totp_reset"), {"user": admin_user.pk, "reason": "x"}).status_code == 403
    moment = {"now": 1_800_000_000}
    monkeypatch.setattr(middleware, "now", lambda: moment["now"])
    client.force_login(admin_user)
    moment["now"] += 11 * 60
    response = client.post(reverse("accounts:totp_reset"), {"user": admin_user.pk, "reason": "x"})
    assert response["Location"].startswith(reverse("accounts:reauth"))
    assert TOTPDevice.objects.filter(user=admin_user).exists()


def test_django_admin_does_not_offer_devices_or_their_secrets(client, admin_user):
    totp_device_for(admin_user)
    client.force_login(admin_user)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert client.get("/admin/otp_static/staticdevice/").status_code == 404


def test_the_demo_can_print_a_code_without_a_phone_but_not_in_production(client, admin_user, settings):
    from io import StringIO

    from django.core.management import CommandError, call_command

    device = totp_device_for(admin_user)
    out = StringIO()
    call_command("totp_code", "hamish", stdout=out)
    _password_step(client, "hamish")
    assert _code_step(client, out.getvalue().split()[0]).status_code == 302 and _signed_in(client)
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="Not in production"):
        call_command("totp_code", "hamish")


def test_the_demo_admin_signs_in_then_enrols_with_the_printed_code(client, tmp_path, settings):
    from io import StringIO

    from django.core.management import call_command

    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("load_demo", stdout=out)
    printed = out.getvalue()
    assert "manage.py totp_code admin" in printed
    password = re.search(r"^\s+admin\s+password (\S+)", printed, re.M).group(1)
    client.post(reverse("accounts:login"), {"username": "admin", "password": password})
    assert client.get(reverse("home"))["Location"] == reverse("accounts:totp_enrol")
    client.post(reverse("accounts:totp_enrol"), {"confirm": "start"})
    code = StringIO()
    call_command("totp_code", "admin", stdout=code)
    assert client.post(reverse("accounts:totp_enrol"), {"code": code.getvalue().split()[0]}).status_code == 200
    assert client.get(reverse("home")).status_code == 302
    assert client.get(reverse("accounts:access")).status_code == 200
