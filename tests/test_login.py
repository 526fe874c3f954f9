import pytest
from django.urls import reverse

from governance.models import AuditEvent


def test_it_signs_in_and_audits_it(client, comms_officer):
    response = client.post(reverse("accounts:login"), {"username": "carys", "password": "correct horse battery staple"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="login", actor=comms_officer).exists()


def test_it_locks_out_after_repeated_failures(client, comms_officer):
    for _ in range(5):
        client.post(reverse("accounts:login"), {"username": "carys", "password": "wrong"})
    response = client.post(reverse("accounts:login"), {"username": "carys", "password": "correct horse battery staple"})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert AuditEvent.objects.filter(action="login_failed").count() >= 5
    assert not AuditEvent.objects.filter(action="login").exists()


def test_an_audit_event_cannot_be_changed_or_deleted(db):
    from django.db import connection, transaction

    event = AuditEvent.objects.create(action="test", actor_label="system")
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE governance_auditevent SET action = 'changed' WHERE id = %s", [event.id])


PROXY = "10.0.0.2"  # the reverse proxy's own address, as the app sees the connection


def _sign_in(client, password, *, forwarded_for=None, remote_addr=PROXY):
    headers = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(reverse("accounts:login"), {"username": "carys", "password": password}, **headers)


@pytest.fixture
def behind_one_proxy(settings):
    settings.BEHIND_PROXY = True
    settings.TRUSTED_PROXY_COUNT = 1


def test_behind_a_proxy_a_lockout_from_one_address_does_not_lock_out_another(client, comms_officer, behind_one_proxy):
    from axes.models import AccessAttempt

    for _ in range(5):
        _sign_in(client, "wrong", forwarded_for="203.0.113.7")
    assert _sign_in(client, "correct horse battery staple", forwarded_for="198.51.100.9").status_code == 302
    client.logout()
    locked = _sign_in(client, "correct horse battery staple", forwarded_for="203.0.113.7")
    assert locked.status_code == 429
    # The lockout and the audit log name the same, real, client address.
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.7"]
    assert set(AuditEvent.objects.filter(action="login_failed").values_list("ip", flat=True)) == {"203.0.113.7"}
    assert AuditEvent.objects.get(action="login").ip == "198.51.100.9"


def test_behind_a_proxy_a_client_cannot_dodge_the_lockout_by_sending_its_own_forwarded_for(
    client, comms_officer, behind_one_proxy
):
    # The client writes whatever it likes on the left; the proxy appends the real address.
    for n in range(5):
        _sign_in(client, "wrong", forwarded_for=f"192.0.2.{n}, 203.0.113.7")
    response = _sign_in(client, "correct horse battery staple", forwarded_for="192.0.2.99, 203.0.113.7")
    assert response.status_code == 429


def test_behind_two_proxies_the_lockout_keys_on_the_address_the_outer_proxy_saw(client, comms_officer, settings):
    settings.BEHIND_PROXY = True
    settings.TRUSTED_PROXY_COUNT = 2
    for n in range(5):
        # client-supplied, then the client as the outer proxy saw it, then the outer proxy
        _sign_in(client, "wrong", forwarded_for=f"192.0.2.{n}, 203.0.113.7, 10.0.0.1")
    assert _sign_in(client, "correct horse battery staple", forwarded_for="203.0.113.8, 10.0.0.1").status_code == 302
    client.logout()
    assert _sign_in(client, "correct horse battery staple", forwarded_for="203.0.113.7, 10.0.0.1").status_code == 429


def test_without_a_proxy_forwarded_for_is_ignored_and_cannot_dodge_the_lockout(client, comms_officer, settings):
    settings.BEHIND_PROXY = False
    for n in range(5):
        _sign_in(client, "wrong", forwarded_for=f"192.0.2.{n}", remote_addr="203.0.113.7")
    response = _sign_in(client, "correct horse battery staple", forwarded_for="198.51.100.9", remote_addr="203.0.113.7")
    assert response.status_code == 429
    assert set(AuditEvent.objects.filter(action="login_failed").values_list("ip", flat=True)) == {"203.0.113.7"}
