"""Events written before the chain existed are chained by the migration, oldest first."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from governance.models import GENESIS_HASH, AuditEvent
from governance.selectors import audit_log_verify
from governance.services import audit_event_record

BEFORE = [("governance", "0003_purgerecord")]
AFTER = [("governance", "0004_audit_chain")]


def _migrate(target=None):
    """Migrate to `target`, or back to the newest migrations of every app."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target or executor.loader.graph.leaf_nodes())


@pytest.fixture
def latest_schema_after():
    # Tests after this one need every later migration's tables back.
    yield
    _migrate()


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(300)
def test_the_migration_chains_existing_events_in_id_order(admin_user, latest_schema_after):
    _migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            for n, (details, ip) in enumerate([('{"a": 1.5, "b": [1, 2]}', "192.0.2.1"), ("{}", None), ('{"x": "é"}', "2001:db8::5")]):
                cursor.execute(
                    "INSERT INTO governance_auditevent (at, actor_id, actor_label, action, object_type, object_id,"
                    " object_repr, ip, details) VALUES (now() - interval '1 day' * %s, %s, 'hamish', %s, '', '', '', %s, %s)",
                    [3 - n, admin_user.id, f"old.{n}", ip, details],
                )
    finally:
        _migrate(AFTER)
    events = list(AuditEvent.objects.order_by("id"))
    assert [e.action for e in events] == ["old.0", "old.1", "old.2"]
    assert events[0].previous_hash == GENESIS_HASH
    assert [e.previous_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert audit_log_verify().summary() == "intact: 3 events"
    # New events go on from the migrated chain, and the table still refuses updates.
    audit_event_record(action="new")
    assert audit_log_verify().summary() == "intact: 4 events"
    with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
        cursor.execute("UPDATE governance_auditevent SET action = 'x'")
