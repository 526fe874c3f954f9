"""Platform credentials: encrypted at rest, rotated under a new key, looked up per platform and instance."""

import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from governance.models import AuditEvent
from listening.credentials import (
    CredentialUnreadable,
    credential_save,
    credential_values,
    harvest_target,
    stored_credentials,
)
from listening.models import PlatformCredential
from tests.support import ROOT, process_env

TOKEN = "AAAA-very-secret-bearer-token-1234"


def _raw_row(credential) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM listening_platformcredential WHERE id = %s", [credential.pk])
        return repr(cursor.fetchone())


def test_it_keeps_no_plaintext_secret_in_the_database(admin_user):
    credential = credential_save(platform="x", values={"bearer_token": TOKEN, "user_id": "12345"}, actor=admin_user)
    row = _raw_row(credential)
    assert TOKEN not in row and "12345" not in row
    assert stored_credentials("x") == {"bearer_token": TOKEN, "user_id": "12345"}


def test_it_audits_a_change_without_the_secret(admin_user):
    credential = credential_save(platform="x", values={"bearer_token": TOKEN}, actor=admin_user)
    credential_save(platform="x", values={"bearer_token": "", "user_id": "99"}, actor=admin_user, credential=credential)
    events = list(AuditEvent.objects.filter(object_type="listening.platformcredential").order_by("id"))
    assert [e.action for e in events] == ["credential.create", "credential.replace"]
    assert events[1].details["keys_changed"] == ["user_id"]
    assert all(TOKEN not in repr(e.details) for e in events)
    # A blank secret keeps the stored one.
    assert stored_credentials("x") == {"bearer_token": TOKEN, "user_id": "99"}


def test_rotate_secrets_re_encrypts_every_credential_under_the_first_key(admin_user):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(EARSHOT_SECRETS_KEY=old):
        credential = credential_save(platform="x", values={"bearer_token": TOKEN}, actor=admin_user)
    with override_settings(EARSHOT_SECRETS_KEY=f"{new},{old}"):
        call_command("rotate_secrets", stdout=open("/dev/null", "w"))
    credential.refresh_from_db()
    with override_settings(EARSHOT_SECRETS_KEY=new):
        assert credential_values(credential) == {"bearer_token": TOKEN}
    with override_settings(EARSHOT_SECRETS_KEY=old), pytest.raises(CredentialUnreadable):
        credential_values(credential)
    assert AuditEvent.objects.filter(action="credential.rotate").count() == 1


def test_rotate_secrets_changes_nothing_when_a_secret_is_under_an_unknown_key(admin_user):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(EARSHOT_SECRETS_KEY=old):
        credential_save(platform="x", values={"bearer_token": TOKEN}, actor=admin_user)
    before = PlatformCredential.objects.get().secrets
    with override_settings(EARSHOT_SECRETS_KEY=new), pytest.raises(CommandError, match="Nothing was changed"):
        call_command("rotate_secrets")
    assert PlatformCredential.objects.get().secrets == before


@override_settings(EARSHOT_MASTODON_BASE_URL="https://mastodon.example")
def test_a_mastodon_token_is_only_for_its_own_instance(admin_user):
    credential_save(platform="mastodon", base_url="https://Social.Example.org/", values={"access_token": TOKEN}, actor=admin_user)
    assert stored_credentials("mastodon", base_url="https://social.example.org") == {"access_token": TOKEN}
    assert stored_credentials("mastodon", base_url="https://mastodon.example") == {}
    assert stored_credentials("mastodon") == {}
    # With no channel naming an instance, harvests go through the credential's own instance.
    base_url, credential = harvest_target("mastodon")
    assert base_url == "https://social.example.org" and credential.platform == "mastodon"


def test_a_platform_without_credentials_reads_nothing_from_the_database():
    # No database access is allowed in this test: a query would raise.
    assert stored_credentials("rss", base_url="https://feeds.example/") == {}


def _settings_import(**env):
    environment = process_env(**env)
    return subprocess.run([sys.executable, "-c", "import config.settings"], cwd=ROOT, env=environment, capture_output=True, text=True)


def test_production_refuses_to_start_without_a_secrets_key():
    result = _settings_import(EARSHOT_PRODUCTION="1", SECRET_KEY="k" * 60, EARSHOT_SECRETS_KEY="")
    assert result.returncode != 0 and "EARSHOT_SECRETS_KEY is not set" in result.stderr


def test_it_refuses_a_secrets_key_that_is_not_a_fernet_key():
    result = _settings_import(EARSHOT_SECRETS_KEY=f"{Fernet.generate_key().decode()},not-a-key")
    assert result.returncode != 0 and "EARSHOT_SECRETS_KEY: key 2 is not a Fernet key" in result.stderr
