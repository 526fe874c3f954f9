"""The admins' audit viewer: filters, keyset paging, the audited CSV export and the chain's verification page."""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.urls import reverse

from governance.models import AuditEvent
from governance.services import audit_event_record

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def as_admin(client, admin_user):
    client.force_login(admin_user)
    return client


def _ids(response):
    return [int(e.id) for e in response.context["events"]]


def _at(monkeypatch, when):
    monkeypatch.setattr("governance.services.timezone.now", lambda: when)


@pytest.fixture
def log(monkeypatch, admin_user, comms_officer, communications):
    """Events by two people and a process over three days."""
    events = {}
    _at(monkeypatch, datetime(2026, 3, 1, 9, 0, tzinfo=LONDON))
    events["grant"] = audit_event_record(action="access.grant", actor=admin_user, obj=communications)
    _at(monkeypatch, datetime(2026, 3, 2, 23, 59, tzinfo=LONDON))
    events["close"] = audit_event_record(action="case.close", actor=comms_officer, details={"note": "done"})
    events["note"] = audit_event_record(action="case.note", actor=comms_officer)
    _at(monkeypatch, datetime(2026, 3, 3, 0, 0, tzinfo=LONDON))
    events["purge"] = audit_event_record(action="foi.purge", actor_label="run_purges")
    monkeypatch.undo()
    return events


def test_it_lists_events_newest_first_and_filters_them(as_admin, log):
    url = reverse("governance:audit_log")
    all_ids = [e.id for e in log.values()]
    assert _ids(as_admin.get(url))[: len(all_ids)] == sorted(all_ids, reverse=True)[: len(all_ids)]
    assert _ids(as_admin.get(url, {"actor": "CARYS"})) == [log["note"].id, log["close"].id]
    assert _ids(as_admin.get(url, {"action": "case.close"})) == [log["close"].id]
    assert _ids(as_admin.get(url, {"action": "case."})) == [log["note"].id, log["close"].id]
    assert _ids(as_admin.get(url, {"object_type": "accounts.team", "object_id": str(log["grant"].object_id)})) == [log["grant"].id]
    assert _ids(as_admin.get(url, {"since": "2026-03-02", "until": "2026-03-02"})) == [log["note"].id, log["close"].id]
    assert _ids(as_admin.get(url, {"since": "2026-03-03", "actor": "run_purges"})) == [log["purge"].id]


def test_it_refuses_a_bad_filter_with_a_message(as_admin, log):
    for params, message in (
        ({"since": "3 March"}, "Give the from date as YYYY-MM-DD."),
        ({"since": "2026-03-03", "until": "2026-03-01"}, "The from date is after the to date."),
        ({"actor": "x" * 151}, "The actor filter is too long"),
        ({"until": "9999-12-31"}, "The to date is out of range."),
    ):
        response = as_admin.get(reverse("governance:audit_log"), params)
        assert response.status_code == 400 and message in response.content.decode()
        export = as_admin.get(reverse("governance:audit_export"), params)
        assert export.status_code == 400
    assert not AuditEvent.objects.filter(action="audit.export").exists()


def test_it_pages_by_keyset_without_offset_in_a_fixed_number_of_queries(as_admin, django_assert_num_queries):
    made = [audit_event_record(action="test.page", actor_label="pager").id for _ in range(120)]
    url = reverse("governance:audit_log")
    params = {"action": "test.page"}
    as_admin.get(url, params)  # warm the session
    pages, before = [], None
    with django_assert_num_queries(4) as captured:  # session, user, access grants, the page
        first = as_admin.get(url, params)
    for _ in range(3):
        with django_assert_num_queries(len(captured.captured_queries)) as captured_page:
            response = as_admin.get(url, {**params, **({"before": before} if before else {})})
        assert not any("OFFSET" in q["sql"].upper() for q in captured_page.captured_queries)
        pages.append(_ids(response))
        before = response.context["next_before"] if response.context["has_more"] else None
        if before:
            assert f"?action=test.page&amp;before={before}" in response.content.decode()
    assert _ids(first) == pages[0]
    assert [len(page) for page in pages] == [50, 50, 20] and before is None
    assert [i for page in pages for i in page] == sorted(made, reverse=True)


def test_the_export_is_audited_filtered_and_defuses_formulas(as_admin, admin_user, log, client):
    audit_event_record(action="login_failed", actor_label="=HYPERLINK(\"http://evil.invalid\")", details={"x": "+1"})
    response = as_admin.get(reverse("governance:audit_export"), {"action": "login_failed"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["id", "at", "actor", "action"]
    assert [row[3] for row in rows[1:]] == ["login_failed"]
    assert rows[1][2] == "'=HYPERLINK(\"http://evil.invalid\")"
    export = AuditEvent.objects.get(action="audit.export")
    assert export.actor == admin_user and export.details == {"filters": {"action": "login_failed"}}
    assert export.ip == "127.0.0.1"


def test_the_verification_page_shows_an_intact_chain_and_then_the_break(as_admin, log):
    url = reverse("governance:audit_verify")
    body = as_admin.get(url).content.decode()
    count = AuditEvent.objects.count()
    assert f"intact: {count} events" in body and AuditEvent.objects.order_by("-id").first().hash in body
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM governance_auditevent WHERE id = %s", [log["close"].id])
    body = as_admin.get(url).content.decode()
    assert f"Broken at event {log['note'].id}" in body and "were deleted" in body


@pytest.mark.parametrize("name", ["governance:audit_log", "governance:audit_export", "governance:audit_verify"])
def test_only_admins_see_the_audit_log(client, comms_officer, foi_member, outsider, name):
    for person in (comms_officer, foi_member, outsider):
        client.force_login(person)
        assert client.get(reverse(name)).status_code == 403
    assert not AuditEvent.objects.filter(action="audit.export").exists()
