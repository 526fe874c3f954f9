"""Circulations: one email per recipient team, escaped, recorded, retried, exported; digests."""

import csv
import io
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.html import escape
from django.utils import timezone

from accounts.models import Team
from governance.models import AuditEvent
from listening.models import MentionHit, SavedSearch
from tests.fakes.smtp import FakeSmtp
from triage.circulations import CirculationRejected, circulation_create, scheduled_mail_send, team_mail_preference_save
from triage.models import Circulation, CirculationRecipient, TeamMailPreference
from triage.services import inbox_item_decide

pytestmark = pytest.mark.django_db

HOSTILE = '<img src="https://tracker.invalid/p.gif"><script>alert("x")</script> & the ICO\x07'


@pytest.fixture
def eager(settings):
    """Run tasks in this process, as a worker would, retries included."""
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def teams(communications):
    communications.email = "comms@example.org"
    communications.save()
    return {
        "rm": Team.objects.create(name="Relationship management", slug="rm", email="rm@example.org"),
        "parl": Team.objects.create(name="Parliamentary", slug="parl", email="parl@example.org"),
        "silent": Team.objects.create(name="No address", slug="silent"),
    }


@pytest.fixture
def news_item(communications, make_item, comms_officer):
    item = make_item(communications, author_name="Jo <b>Journalist</b>", author_handle="jo", text=HOSTILE,
                     url="https://demo.earshot.invalid/jo/status/1", posted_at=timezone.now())
    search = SavedSearch.objects.create(team=communications, name="Posts that say <the ICO>", query='"the ICO"')
    MentionHit.objects.create(mention=item.mention, saved_search=search)
    inbox_item_decide(item=item, outcome="news_item", actor=comms_officer)
    return item


def test_a_circulation_sends_one_escaped_email_per_team_and_records_it(
    client, comms_officer, news_item, teams, eager, django_capture_on_commit_callbacks
):
    client.force_login(comms_officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("triage:circulate", args=[news_item.id]),
                               {"teams": [teams["rm"].pk, teams["parl"].pk], "note": "Heads up <b>now</b>"})
    assert response.status_code == 302
    assert sorted(m.to[0] for m in mail.outbox) == ["parl@example.org", "rm@example.org"]
    circulation = Circulation.objects.get()
    assert (circulation.sender, circulation.note, circulation.mention) == (comms_officer, "Heads up <b>now</b>", news_item.mention)
    assert set(circulation.recipients.values_list("status", flat=True)) == {"sent"}
    assert AuditEvent.objects.filter(action="circulation.create", object_id=str(circulation.pk)).exists()
    for message in mail.outbox:
        text = message.body
        html = message.alternatives[0][0]
        for part in (text, html):
            assert "<script>" not in part and "<img" not in part and "<b>" not in part
            assert "&lt;script&gt;alert" in part
            assert "Heads up &lt;b&gt;now&lt;/b&gt;" in part
            assert "Posts that say &lt;the ICO&gt;" in part
            assert "https://demo.earshot.invalid/jo/status/1" in part
            assert "@jo" in part
            assert "\x07" not in part
        assert 'src="' not in html and 'https://tracker.invalid/p.gif"' not in html
        assert "\n" not in message.subject


def test_it_refuses_a_team_without_an_address_and_sends_nothing(comms_officer, news_item, teams):
    with pytest.raises(CirculationRejected, match="No address"):
        circulation_create(item=news_item, actor=comms_officer, team_ids=[teams["rm"].pk, teams["silent"].pk])
    with pytest.raises(CirculationRejected, match="at least one"):
        circulation_create(item=news_item, actor=comms_officer, team_ids=[])
    assert not Circulation.objects.exists() and not mail.outbox


def test_it_refuses_another_teams_item(client, foi_member, news_item, teams):
    client.force_login(foi_member)
    response = client.post(reverse("triage:circulate", args=[news_item.id]), {"teams": [teams["rm"].pk]})
    assert response.status_code == 403 and not Circulation.objects.exists()


@pytest.mark.timeout(60)
def test_a_failing_smtp_server_leaves_the_failure_visible_and_retryable(
    client, settings, comms_officer, news_item, teams, eager, django_capture_on_commit_callbacks
):
    smtp = FakeSmtp.refusing()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", smtp.port, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    client.force_login(comms_officer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("triage:circulate", args=[news_item.id]), {"teams": [teams["rm"].pk], "note": "n"})
    recipient = CirculationRecipient.objects.get()
    assert recipient.status == "failed" and recipient.attempts == 5  # the first try and four retries
    assert "Connection" in recipient.last_error or "refused" in recipient.last_error.lower()
    page = client.get(reverse("triage:circulations", args=["communications"])).content.decode()
    assert "Failed" in page and "Retry failed emails" in page

    smtp.start()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("triage:circulation_retry", args=[recipient.circulation_id]), {"confirm": "retry"})
    finally:
        smtp.stop()
    recipient.refresh_from_db()
    assert recipient.status == "sent" and recipient.last_error == ""
    [(sender, to, message)] = smtp.messages
    assert to == ["rm@example.org"] and "&lt;script&gt;" in message.get_body(("plain",)).get_content()
    assert AuditEvent.objects.filter(action="circulation.retry").exists()


def test_retry_refuses_when_nothing_failed(client, comms_officer, news_item, teams):
    client.force_login(comms_officer)
    circulation = circulation_create(item=news_item, actor=comms_officer, team_ids=[teams["rm"].pk])
    CirculationRecipient.objects.update(status="sent")
    response = client.post(reverse("triage:circulation_retry", args=[circulation.pk]), {"confirm": "retry"}, follow=True)
    assert "Nothing to retry" in response.content.decode()


def test_retry_refuses_a_post_that_did_not_come_from_the_button(client, comms_officer, news_item, teams):
    client.force_login(comms_officer)
    circulation = circulation_create(item=news_item, actor=comms_officer, team_ids=[teams["rm"].pk])
    CirculationRecipient.objects.update(status="failed")
    response = client.post(reverse("triage:circulation_retry", args=[circulation.pk]))
    assert response.status_code == 400 and "Retry failed emails button" in response.content.decode()
    assert CirculationRecipient.objects.get().status == "failed"
    assert not AuditEvent.objects.filter(action="circulation.retry").exists()


def test_the_export_lists_circulations_and_defuses_formulas(client, comms_officer, news_item, teams):
    circulation_create(item=news_item, actor=comms_officer, team_ids=[teams["rm"].pk], note="=HYPERLINK(\"x\")")
    client.force_login(comms_officer)
    response = client.get(reverse("triage:circulations_export", args=["communications"]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "id" and len(rows) == 2
    assert rows[1][7] == "'=HYPERLINK(\"x\")" and "Relationship management <rm@example.org>" in rows[1][5]
    assert AuditEvent.objects.filter(action="circulation.export").exists()
    # The list shows it too, escaped.
    page = client.get(reverse("triage:circulations", args=["communications"])).content.decode()
    assert escape(Circulation.objects.get().subject) in page and "<script>alert" not in page


def test_a_daily_digest_goes_once_with_the_days_news_items(
    comms_officer, communications, news_item, teams, eager, django_capture_on_commit_callbacks
):
    team_mail_preference_save(team=communications, actor=comms_officer, news_digest="daily", due_cases_daily=False)
    preference = TeamMailPreference.objects.get(team=communications)
    send_at = preference.news_digest_next_at
    assert timezone.localtime(send_at).hour == 8
    # The news item was decided just now: move the window so it falls inside the next digest.
    news_item.decisions.update(decided_at=send_at - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert len(scheduled_mail_send(now=send_at + timedelta(minutes=1))) == 1
        assert scheduled_mail_send(now=send_at + timedelta(minutes=2)) == []
    [message] = mail.outbox
    assert message.to == ["comms@example.org"] and "1 news item" in message.subject
    assert "&lt;script&gt;alert" in message.body and "<script>" not in message.alternatives[0][0]
    preference.refresh_from_db()
    assert preference.news_digest_next_at == send_at + timedelta(days=1)


def test_the_due_cases_email_lists_what_falls_due(
    comms_officer, communications, make_item, teams, eager, django_capture_on_commit_callbacks
):
    item = make_item(communications, posted_at=timezone.now() - timedelta(days=40))
    inbox_item_decide(item=item, outcome="information_request", request_type="foi", actor=comms_officer)
    team_mail_preference_save(team=communications, actor=comms_officer, news_digest="off", due_cases_daily=True)
    send_at = TeamMailPreference.objects.get(team=communications).due_cases_next_at
    with django_capture_on_commit_callbacks(execute=True):
        scheduled_mail_send(now=send_at)
    [message] = mail.outbox
    assert item.case.reference in message.body and "OVERDUE" in message.body


def test_a_team_without_an_address_cannot_subscribe(comms_officer, communications):
    with pytest.raises(CirculationRejected, match="no email address"):
        team_mail_preference_save(team=communications, actor=comms_officer, news_digest="weekly", due_cases_daily=False)
    assert not TeamMailPreference.objects.exists()
