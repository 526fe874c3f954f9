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
