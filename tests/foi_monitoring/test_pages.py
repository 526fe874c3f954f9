"""The FOI group's pages: flagged authorities with evidence, trend and history; meetings and minutes."""

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from foi_monitoring.models import AuthoritySignal, Flag, MonitoringSettings, PublicAuthority, ReviewMeeting
from governance.models import AuditEvent

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def flagged(make_mention):
    authority = PublicAuthority.objects.create(name="Borsetshire County Council", code="BOR")
    now = timezone.now()
    for n, author in enumerate(["alice", "bob", "carol"]):
        mention = make_mention(text=f"FOI <script>alert({n})</script> to Borsetshire County Council overdue",
                               author_handle=author, posted_at=now - timedelta(days=n))
        AuthoritySignal.objects.create(authority=authority, mention=mention, codes=["overdue", "refused"],
                                       author_key=f"demo:{author}", occurred_at=now - timedelta(days=n),
                                       collected_at=now - timedelta(days=n))
    flag = Flag.objects.create(authority=authority, reason="authors", opened_at=now, authors_count=3, signals_count=3,
                               window_days=14)
    return authority, flag


def test_a_flagged_authority_shows_its_evidence_escaped_its_chart_and_when_it_goes(client, foi_member, flagged):
    authority, _ = flagged
    meeting = ReviewMeeting.objects.create(starts_at=timezone.now() + timedelta(days=1))
    client.force_login(foi_member)
    flags_page = client.get(reverse("foi_monitoring:flags")).content.decode()
    assert "Borsetshire County Council" in flags_page
    page = client.get(reverse("foi_monitoring:authority", args=[authority.id])).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;alert(0)&lt;/script&gt;" in page
    assert "Evidence (3 posts)" in page
    assert '<svg role="img" aria-labelledby="trend-title trend-desc"' in page
    assert "<title id=\"trend-title\">FOI signals about Borsetshire County Council" in page
    assert "<caption>Signals and distinct authors per week</caption>" in page
    due = timezone.localtime(meeting.purge_due_at)
    day = timezone.localtime(meeting.starts_at)
    assert (f"These 3 posts will be deleted by {due.day} {due:%B}, 5 days after the meeting on {day.day} {day:%B}."
            in page)


def test_without_a_meeting_the_pages_give_the_ceiling_date(client, foi_member, flagged):
    client.force_login(foi_member)
    page = client.get(reverse("foi_monitoring:flags")).content.decode()
    assert "These 3 posts will be deleted 5 days after the next review meeting, and by" in page
    assert "at the latest (30 days after collection)" in page


def test_a_meeting_takes_its_agenda_from_open_flags_and_a_decision_closes_the_flag(client, foi_member, flagged):
    authority, flag = flagged
    client.force_login(foi_member)
    starts = timezone.localtime() - timedelta(minutes=5)
    response = client.post(reverse("foi_monitoring:meetings"), {
        "starts_at": starts.strftime("%Y-%m-%dT%H:%M"), "attendees": "Grace Adeyemi\nHamish Clarke",
    })
    meeting = ReviewMeeting.objects.get()
    assert response["Location"] == reverse("foi_monitoring:meeting", args=[meeting.id])
    [item] = meeting.agenda.all()
    assert (item.authority, item.flag, item.signals_count, item.authors_count) == (authority, flag, 3, 3)
    client.post(reverse("foi_monitoring:meeting_decide", args=[meeting.id, item.id]),
                {"outcome": "contact_authority", "notes": "Write to the FOI officer."})
    item.refresh_from_db()
    assert item.outcome == "contact_authority" and item.decided_by == foi_member
    flag.refresh_from_db()
    assert flag.closed_by_meeting == meeting and flag.closed_at is not None
    assert AuditEvent.objects.filter(action="foi.review_decision").count() == 1
    history = client.get(reverse("foi_monitoring:authority", args=[authority.id])).content.decode()
    assert "Contact the authority" in history and "Write to the FOI officer." in history


def test_a_bad_decision_changes_nothing(client, foi_member, flagged):
    client.force_login(foi_member)
    meeting = ReviewMeeting.objects.create(starts_at=timezone.now() - timedelta(hours=1))
    item = meeting.agenda.create(authority=flagged[0])
    client.post(reverse("foi_monitoring:meeting_decide", args=[meeting.id, item.id]), {"outcome": "fine_them"})
    item.refresh_from_db()
    assert item.outcome == "" and Flag.objects.get().is_open


def test_the_minutes_csv_holds_counts_and_decisions_never_posts(client, foi_member, flagged):
    authority, _ = flagged
    meeting = ReviewMeeting.objects.create(starts_at=datetime(2026, 3, 9, 10, tzinfo=LONDON), attendees="Grace\nHamish")
    meeting.agenda.create(authority=authority, signals_count=3, authors_count=3, outcome="keep_monitoring",
                          notes="=HYPERLINK(\"http://evil\")", decided_by=foi_member, decided_at=meeting.starts_at)
    client.force_login(foi_member)
    response = client.get(reverse("foi_monitoring:meeting_minutes", args=[meeting.id]))
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="minutes-2026-03-09.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][:8] == ["2026-03-09 10:00", "Grace; Hamish", "Borsetshire County Council", "BOR", "3", "3",
                           "Keep monitoring", "'=HYPERLINK(\"http://evil\")"]
    assert "script" not in response.content.decode() and "alice" not in response.content.decode()
    page = client.get(reverse("foi_monitoring:meeting", args=[meeting.id])).content.decode()
    assert 'href="/static/foi_monitoring/print.css" media="print"' in page


def test_the_api_lists_open_flags_as_counts(client, foi_member, flagged):
    client.force_login(foi_member)
    data = client.get(reverse("foi_monitoring:flag_api")).json()
    assert data["flags"][0]["authority"]["name"] == "Borsetshire County Council"
    assert data["flags"][0]["authors"] == 3
    assert "alice" not in str(data)


def test_the_register_search_finds_aliases_and_domains(client, foi_member):
    PublicAuthority.objects.create(name="London Borough of Lewisham", aliases=["Lewisham Borough Council"],
                                   web_domains=["lewisham.gov.uk"], code="LEW")
    client.force_login(foi_member)
    for query in ("lewisham borough council", "lewisham.gov", "LEW"):
        page = client.get(reverse("foi_monitoring:authorities"), {"q": query}).content.decode()
        assert "London Borough of Lewisham" in page, query


def test_an_admin_uploads_a_csv_and_a_bad_one_is_rejected_whole(client, admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(admin_user)
    bad = SimpleUploadedFile("r.csv", b"name,code,web_domains\nGood Council,GOOD,good.gov.uk\n,BAD,\nX Council,X!,\n")
    response = client.post(reverse("foi_monitoring:authority_import"), {"file": bad})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Line 3: Name is empty." in page and "Line 4: Code &#x27;X!&#x27; may hold only" in page
    assert not PublicAuthority.objects.exists()
    good = SimpleUploadedFile("r.csv", b"name,code,web_domains\nGood Council,GOOD,good.gov.uk\n")
    response = client.post(reverse("foi_monitoring:authority_import"), {"file": good})
    assert response.status_code == 302
    assert PublicAuthority.objects.get().web_domains == ["good.gov.uk"]
    assert AuditEvent.objects.filter(action="foi.register_import").exists()


def test_admins_change_the_flag_thresholds_in_django_admin_and_it_is_audited(client, admin_user):
    settings_row = MonitoringSettings.current()
    client.force_login(admin_user)
    url = reverse("admin:foi_monitoring_monitoringsettings_change", args=[settings_row.pk])
    response = client.post(url, {"authors_threshold": 4, "window_days": 7, "spike_factor": 3.0, "spike_min_signals": 4,
                                 "spike_min_authors": 2, "baseline_days": 60})
    assert response.status_code == 302
    settings_row.refresh_from_db()
    assert (settings_row.authors_threshold, settings_row.window_days) == (4, 7)
    assert AuditEvent.objects.filter(action="admin.change", object_type="foi_monitoring.monitoringsettings").exists()
    # One account can never flag alone: a threshold of 1 is refused.
    client.post(url, {"authors_threshold": 1, "window_days": 7, "spike_factor": 3.0, "spike_min_signals": 4,
                      "spike_min_authors": 2, "baseline_days": 60})
    settings_row.refresh_from_db()
    assert settings_row.authors_threshold == 4


def test_closing_the_minutes_takes_the_close_button_and_a_stray_post_changes_nothing(client, foi_member, flagged):
    client.force_login(foi_member)
    meeting = ReviewMeeting.objects.create(starts_at=timezone.now() - timedelta(hours=1))
    url = reverse("foi_monitoring:meeting_close", args=[meeting.id])
    response = client.post(url)
    assert response.status_code == 400 and "Close the minutes button" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.closed_at is None and not AuditEvent.objects.filter(action="foi.meeting_close").exists()
    assert 'name="confirm" value="close"' in client.get(reverse("foi_monitoring:meeting", args=[meeting.id])).content.decode()
    client.post(url, {"confirm": "close"})
    meeting.refresh_from_db()
    assert meeting.closed_at is not None
