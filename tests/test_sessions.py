"""Session limits: idle and absolute expiry, htmx sign-out, and deactivation ending sessions at once.

Time is a fake clock: accounts.middleware.now is replaced, so nothing waits.
"""

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.urls import reverse

from accounts import middleware
from accounts.models import AccessGrant
from accounts.services import access_grant_revoke
from governance.models import AuditEvent

MINUTE = 60
HOUR = 60 * MINUTE
START = 1_700_000_000


class FakeClock:
    def __init__(self):
        self.time = START

    def advance(self, seconds):
        self.time += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(middleware, "now", lambda: fake.time)
    return fake


@pytest.fixture
def inbox_url(communications):
    return reverse("triage:inbox", args=[communications.slug])


@pytest.fixture
def signed_in(client, comms_officer, clock):
    client.force_login(comms_officer)
    return client


def _session_data(client):
    return Session.objects.get(session_key=client.session.session_key).get_decoded()


def _is_sent_to_sign_in(response, next_path):
    return response.status_code == 302 and response["Location"] == f"{reverse('accounts:login')}?next={next_path}"


def test_a_session_used_within_the_idle_limit_stays_signed_in(signed_in, clock, inbox_url):
    clock.advance(29 * MINUTE)
    assert signed_in.get(inbox_url).status_code == 200


def test_it_signs_out_after_thirty_idle_minutes_and_says_why(signed_in, clock, inbox_url):
    clock.advance(30 * MINUTE)
    response = signed_in.get(inbox_url)
    assert _is_sent_to_sign_in(response, inbox_url)
    assert SESSION_KEY not in signed_in.session
    page = signed_in.get(response["Location"]).content.decode()
    assert "You were signed out after 30 minutes without activity" in page
    assert 'name="password"' in page
    # Signed out for good: the next request is anonymous too.
    assert signed_in.get(inbox_url).status_code == 302


def test_the_idle_limit_is_a_setting(signed_in, clock, inbox_url, settings):
    settings.EARSHOT_SESSION_IDLE_MINUTES = 5
    clock.advance(5 * MINUTE)
    response = signed_in.get(inbox_url, follow=True)
    assert "You were signed out after 5 minutes without activity" in response.content.decode()


def test_activity_extends_the_idle_limit_but_not_the_twelve_hour_limit(signed_in, clock, inbox_url):
    # A request every 25 minutes keeps the session going past any one idle window...
    for _ in range(28):  # 28 × 25 minutes = 11 h 40 min
        clock.advance(25 * MINUTE)
        assert signed_in.get(inbox_url).status_code == 200
    # ...but not past twelve hours from signing in.
    clock.advance(20 * MINUTE)
    response = signed_in.get(inbox_url, follow=True)
    assert "a session lasts at most 12 hours" in response.content.decode()
    assert SESSION_KEY not in signed_in.session


def test_the_absolute_limit_is_a_setting(signed_in, clock, inbox_url, settings):
    settings.EARSHOT_SESSION_MAX_HOURS = 1
    clock.advance(20 * MINUTE)
    assert signed_in.get(inbox_url).status_code == 200
    clock.advance(20 * MINUTE)
    assert signed_in.get(inbox_url).status_code == 200
    clock.advance(20 * MINUTE)
    response = signed_in.get(inbox_url, follow=True)
    assert "a session lasts at most 1 hours" in response.content.decode()


def test_signing_in_again_restarts_both_clocks(client, comms_officer, clock, inbox_url):
    client.force_login(comms_officer)
    clock.advance(11 * HOUR)
    client.force_login(comms_officer)
    assert _session_data(client)[middleware.STARTED_KEY] == START + 11 * HOUR
    for _ in range(5):  # to 13 h 5 min after the first sign-in
        clock.advance(25 * MINUTE)
        assert client.get(inbox_url).status_code == 200


def test_activity_is_written_to_the_session_at_most_once_a_minute(signed_in, clock, inbox_url):
    signed_in.get(inbox_url)
    assert _session_data(signed_in)[middleware.ACTIVITY_KEY] == START
    clock.advance(59)
    signed_in.get(inbox_url)
    assert _session_data(signed_in)[middleware.ACTIVITY_KEY] == START
    clock.advance(1)
    signed_in.get(inbox_url)
    assert _session_data(signed_in)[middleware.ACTIVITY_KEY] == START + MINUTE


def test_an_htmx_request_after_expiry_sends_the_whole_browser_to_sign_in(signed_in, clock):
    clock.advance(31 * MINUTE)
    response = signed_in.post(
        reverse("listening:saved_search_check"), {"query": "ico"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/searches/new/?team=2"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{reverse('accounts:login')}?next=/searches/new/%3Fteam%3D2"
    assert b"Sign in" not in response.content
    assert SESSION_KEY not in signed_in.session


def test_an_htmx_redirect_never_points_at_another_site(signed_in, clock):
    clock.advance(31 * MINUTE)
    response = signed_in.post(
        reverse("listening:saved_search_check"), {"query": "ico"},
        headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/phish"},
    )
    assert response["HX-Redirect"] == reverse("accounts:login")


def test_a_form_post_after_expiry_returns_to_the_page_it_came_from_not_the_post_address(signed_in, clock, comms_officer):
    clock.advance(31 * MINUTE)
    response = signed_in.post(reverse("accounts:logout"), headers={"Referer": "http://testserver/searches/"})
    assert _is_sent_to_sign_in(response, "/searches/")


def test_an_expired_session_on_the_sign_in_page_shows_the_form_without_a_loop(signed_in, clock):
    clock.advance(31 * MINUTE)
    response = signed_in.get(reverse("accounts:login"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    page = signed_in.get(response["Location"]).content.decode()
    assert "You were signed out after 30 minutes without activity" in page and 'name="password"' in page


def _second_browser(client_class, user):
    other = client_class()
    other.force_login(user)
    return other


def test_deactivating_a_user_ends_their_sessions_at_once_and_audits_it(
    signed_in, client, comms_officer, admin_user, clock, inbox_url
):
    from django.test import Client

    laptop = signed_in
    phone = _second_browser(Client, comms_officer)
    admins_browser = _second_browser(Client, admin_user)
    assert laptop.get(inbox_url).status_code == 200

    comms_officer.is_active = False
    comms_officer.save()

    for browser in (laptop, phone):
        assert not Session.objects.filter(session_key=browser.session.session_key).exists()
        assert browser.get(inbox_url).status_code == 302
    # Nobody else is signed out.
    assert admins_browser.get(inbox_url).status_code == 200
    event = AuditEvent.objects.get(action="session.forced_sign_out")
    assert event.object_id == str(comms_officer.pk)
    assert event.details == {"user": "carys", "reason": "deactivated", "sessions_ended": 2}


def test_deactivating_a_user_in_django_admin_signs_them_out(signed_in, client, comms_officer, admin_user, inbox_url):
    from django.test import Client

    admins_browser = _second_browser(Client, admin_user)
    response = admins_browser.post(
        reverse("admin:accounts_user_change", args=[comms_officer.pk]),
        {"username": "carys", "first_name": "", "last_name": "", "email": ""},  # is_active unticked
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    comms_officer.refresh_from_db()
    assert not comms_officer.is_active
    assert signed_in.get(inbox_url).status_code == 302
    assert SESSION_KEY not in signed_in.session
    assert AuditEvent.objects.filter(action="session.forced_sign_out", object_id=str(comms_officer.pk)).count() == 1


def test_saving_an_already_inactive_user_writes_no_second_audit_row(comms_officer):
    comms_officer.is_active = False
    comms_officer.save()
    comms_officer.first_name = "Carys"
    comms_officer.save()
    assert AuditEvent.objects.filter(action="session.forced_sign_out").count() == 1


def test_a_user_deactivated_without_signals_is_refused_on_the_next_request(signed_in, comms_officer, inbox_url):
    type(comms_officer).objects.filter(pk=comms_officer.pk).update(is_active=False)  # sends no signal
    response = signed_in.get(inbox_url, follow=True)
    assert "your account is no longer active" in response.content.decode()
    assert SESSION_KEY not in signed_in.session


def test_revoking_the_last_grant_needs_no_session_change(signed_in, comms_officer, admin_user, inbox_url):
    assert signed_in.get(inbox_url).status_code == 200
    access_grant_revoke(grant=AccessGrant.objects.get(user=comms_officer), revoked_by=admin_user)
    # Still signed in, but the access list is read on every request: refused at once.
    assert signed_in.get(inbox_url).status_code == 403
    assert SESSION_KEY in signed_in.session
    assert signed_in.get(reverse("home")).status_code == 403


@pytest.mark.parametrize("env,message", [
    ({"EARSHOT_SESSION_IDLE_MINUTES": "0"}, "EARSHOT_SESSION_IDLE_MINUTES='0' is too small"),
    ({"EARSHOT_SESSION_MAX_HOURS": "twelve"}, "EARSHOT_SESSION_MAX_HOURS='twelve' is not a whole number"),
    ({"EARSHOT_SESSION_IDLE_MINUTES": "90", "EARSHOT_SESSION_MAX_HOURS": "1"},
     "EARSHOT_SESSION_IDLE_MINUTES must not be longer than EARSHOT_SESSION_MAX_HOURS"),
])
def test_the_settings_refuse_session_limits_that_make_no_sense(env, message):
    import subprocess
    import sys

    from tests.support import ROOT, process_env

    result = subprocess.run([sys.executable, "-c", "import config.settings"], cwd=ROOT,
                            env=process_env() | env, capture_output=True, text=True)
    assert result.returncode != 0 and message in result.stderr


@pytest.mark.django_db
def test_beat_clears_expired_session_rows_and_keeps_live_ones():
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from accounts.tasks import clear_expired_sessions

    assert settings.CELERY_BEAT_SCHEDULE["clear expired sessions"]["task"] == "accounts.tasks.clear_expired_sessions"
    live, stale = SessionStore(), SessionStore()
    live.create()
    stale.create()
    Session.objects.filter(session_key=stale.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))

    assert clear_expired_sessions() == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
