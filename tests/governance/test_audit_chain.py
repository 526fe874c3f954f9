"""The audit log is a hash chain: a changed, deleted or forked event shows, retention's deletions do not."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Team
from accounts.services import access_grant_create
from governance.models import GENESIS_HASH, AuditEvent, PurgeRecord
from governance.selectors import audit_log_verify
from governance.services import audit_event_record, audit_log_purge


def _record(n, **fields):
    return [audit_event_record(action=f"test.{i}", actor_label="system", **fields) for i in range(n)]


def _tamper(sql, params=()):
    """Change the table behind the app's back, as someone with database access could."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # deferred checks must not be pending for ALTER TABLE
        cursor.execute("ALTER TABLE governance_auditevent DISABLE TRIGGER audit_event_no_update")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE governance_auditevent ENABLE TRIGGER audit_event_no_update")


def _verify_command():
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit_log", stdout=out, stderr=err)
    except SystemExit as exit:
        return exit.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_each_event_holds_the_hash_of_the_one_before(admin_user, communications):
    first = audit_event_record(action="test.first", actor=admin_user, obj=communications, ip="2001:DB8:0::1",
                               details={"ratio": 3.0, "big": 1e20, "small": 1.5e-07, "name": "Siân", "list": (1, 2)})
    second = audit_event_record(action="test.second", ip="192.0.2.7", details={"nested": {"b": 1, "a": [None, True]}})
    third = audit_event_record(action="test.third")
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.hash and third.previous_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3
    # Hashed over the values as they read back from the database.
    for event in (first, second, third):
        stored = AuditEvent.objects.get(pk=event.pk)
        assert stored.hash == event.hash == stored.computed_hash()
    assert audit_log_verify().summary() == "intact: 3 events"


@pytest.mark.django_db
def test_an_edited_event_breaks_the_chain_and_is_named(admin_user):
    events = _record(5, actor=admin_user, details={"note": "as written"})
    _tamper("UPDATE governance_auditevent SET details = %s WHERE id = %s", ['{"note": "rewritten"}', events[2].id])
    report = audit_log_verify()
    assert not report.intact
    assert (report.break_id, report.break_kind) == (events[2].id, "changed")
    code, out, err = _verify_command()
    assert code == 1 and out == ""
    assert f"broken at event {events[2].id}: " in err and "changed" in err


@pytest.mark.django_db
def test_an_event_whose_hash_was_recomputed_breaks_the_link_after_it():
    events = _record(4)
    # Someone changes a row and stores a matching hash for it: the next event no longer links to it.
    _tamper("UPDATE governance_auditevent SET action = 'test.quiet' WHERE id = %s", [events[1].id])
    changed = AuditEvent.objects.get(pk=events[1].pk)
    _tamper("UPDATE governance_auditevent SET hash = %s WHERE id = %s", [changed.computed_hash(), changed.id])
    report = audit_log_verify()
    assert (report.break_id, report.break_kind) == (events[2].id, "missing")


@pytest.mark.django_db
def test_a_deleted_event_in_the_middle_is_a_break():
    events = _record(5)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM governance_auditevent WHERE id = %s", [events[2].id])
    report = audit_log_verify()
    assert (report.break_id, report.break_kind) == (events[3].id, "missing")
    assert f"between event {events[1].id} and it were deleted" in report.problem
    code, _, err = _verify_command()
    assert code == 1 and f"broken at event {events[3].id}" in err


def _dated(monkeypatch, days):
    """Events written `days` days ago each, oldest first."""
    now = timezone.now()
    events = []
    for n in days:
        monkeypatch.setattr("governance.services.timezone.now", lambda n=n: now - timedelta(days=n))
        events.append(audit_event_record(action=f"test.{n}_days_ago"))
    monkeypatch.undo()
    return events


@pytest.mark.django_db
def test_a_retention_purge_deletes_the_oldest_events_and_the_chain_still_verifies(monkeypatch):
    events = _dated(monkeypatch, [400, 390, 380, 10, 5, 1])
    record = audit_log_purge(cutoff=timezone.now() - timedelta(days=365), basis="Audit log kept for one year")
    assert record.category == PurgeRecord.Category.AUDIT_LOG and record.counts == {"audit_events": 3}
    remaining = list(AuditEvent.objects.order_by("id"))
    assert [e.id for e in remaining[:3]] == [e.id for e in events[3:]]
    purge = remaining[-1]
    assert purge.action == "audit_log.purge" and purge.previous_hash == events[-1].hash
    assert purge.details["deleted"] == 3 and purge.details["oldest_previous_hash"] == events[2].hash
    report = audit_log_verify()
    assert report.intact and report.count == 4 and report.first_id == events[3].id
    # The chain goes on from the purge, and a second purge moves the start again.
    audit_event_record(action="test.after_purge")
    assert audit_log_verify().summary() == "intact: 5 events"
    audit_log_purge(cutoff=timezone.now() - timedelta(days=3), basis="shorter")
    assert AuditEvent.objects.order_by("id").first().id == events[5].id
    assert audit_log_verify().intact


@pytest.mark.django_db
def test_a_purge_keeps_the_newest_event_so_the_chain_goes_on(monkeypatch):
    events = _dated(monkeypatch, [30, 20])
    audit_log_purge(cutoff=timezone.now(), basis="everything")
    assert [e.id for e in AuditEvent.objects.order_by("id")][0] == events[1].id
    assert audit_log_verify().summary() == "intact: 2 events"


@pytest.mark.django_db
def test_deleting_the_oldest_events_without_a_recorded_purge_is_a_break():
    events = _record(4)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM governance_auditevent WHERE id <= %s", [events[1].id])
    report = audit_log_verify()
    assert (report.break_id, report.break_kind) == (events[2].id, "missing")
    assert "not by a recorded retention purge" in report.problem


@pytest.mark.django_db
def test_the_command_reports_an_intact_log_and_exits_zero():
    events = _record(3)
    code, out, err = _verify_command()
    assert code == 0 and err == ""
    assert out.splitlines()[0] == "intact: 3 events"
    assert events[2].hash in out


@pytest.mark.django_db
def test_an_empty_log_is_intact():
    assert _verify_command()[:2] == (0, "intact: 0 events\n")


@pytest.mark.django_db
def test_the_database_refuses_a_second_event_after_the_same_one():
    first, second = _record(2)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent(action="test.fork", actor_label="x", previous_hash=first.hash, hash="f" * 64).save(force_insert=True)


@pytest.mark.django_db
def test_the_database_still_refuses_an_update():
    (event,) = _record(1)
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE governance_auditevent SET action = 'x' WHERE id = %s", [event.id])


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_concurrent_writers_extend_one_unbroken_chain(django_user_model):
    """Writers in their own transactions, audit rows in the middle of other writes, as the services do."""
    team = Team.objects.create(name="Threads", slug="threads")
    users = [django_user_model.objects.create_user(username=f"writer{n}") for n in range(6)]
    start = threading.Barrier(len(users))
    errors = []

    def write(user):
        try:
            start.wait()
            for n in range(8):
                with transaction.atomic():
                    audit_event_record(action="test.thread", actor=user, details={"n": n})
                    # A row lock taken after the audit row, and a service that audits inside its own.
                    Team.objects.select_for_update().get(pk=team.pk)
            access_grant_create(user=user, team=team, role="comms_officer", reason="threads")
        except Exception as error:  # noqa: BLE001  (reported by the assertion below)
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    report = audit_log_verify()
    assert report.intact, report.problem
    assert report.count == AuditEvent.objects.count() == len(users) * 9
    assert AuditEvent.objects.values("previous_hash").distinct().count() == report.count


@pytest.mark.django_db
def test_many_events_written_at_once_extend_the_chain_as_single_ones_do(django_user_model):
    from governance.services import audit_events_record

    user = django_user_model.objects.create_user(username="bulk")
    team = Team.objects.create(name="Bulk", slug="bulk")
    audit_event_record(action="test.before", actor=user)
    rows = audit_events_record(
        events=[("test.many", team, {"n": n, "note": "café"}) for n in range(5)], actor=user, ip="192.0.2.1"
    )
    audit_event_record(action="test.after", actor=user)
    assert [r.details["n"] for r in rows] == list(range(5))
    assert AuditEvent.objects.filter(action="test.many", actor=user, object_id=str(team.pk), ip="192.0.2.1").count() == 5
    report = audit_log_verify()
    assert report.intact, report.problem
    assert report.count == 7
