import pytest
from django.core.management import CommandError, call_command

from accounts.access import access_for
from governance.models import AuditEvent


def test_it_makes_the_first_admin_and_audits_it(django_user_model):
    user = django_user_model.objects.create_user(username="first", password="x" * 16)
    assert not access_for(user).is_admin
    call_command("grant_admin", "first", "--team", "Administration")
    user = django_user_model.objects.get(pk=user.pk)
    assert access_for(user).is_admin
    assert AuditEvent.objects.filter(action="access.grant", actor_label="grant_admin").count() == 1
    call_command("grant_admin", "first", "--team", "administration")  # again: nothing new
    assert user.grants.count() == 1


def test_it_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="no user called 'ghost'"):
        call_command("grant_admin", "ghost")


def test_an_admin_grants_access_in_django_admin_and_it_is_audited(client, admin_user, communications, django_user_model):
    newcomer = django_user_model.objects.create_user(username="newcomer", password="x" * 16)
    client.force_login(admin_user)
    response = client.post("/admin/accounts/accessgrant/add/", {
        "user": newcomer.pk, "team": communications.pk, "role": "comms_officer", "reason": "Joined the press office",
    })
    assert response.status_code == 302
    grant = newcomer.grants.get()
    assert grant.granted_by == admin_user and grant.reason == "Joined the press office"
    event = AuditEvent.objects.get(action="access.grant", object_id=str(grant.pk))
    assert event.actor == admin_user


def test_a_grant_cannot_be_deleted_in_django_admin(client, admin_user, comms_officer):
    client.force_login(admin_user)
    grant = comms_officer.grants.get()
    client.post(f"/admin/accounts/accessgrant/{grant.pk}/delete/", {"post": "yes"})
    assert comms_officer.grants.filter(pk=grant.pk).exists()
