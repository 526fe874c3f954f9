from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION governance_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    """The database itself refuses to change an audit row.

    Deleting is left to the retention purge (a later issue), which records a
    PurgeRecord; nothing in the app's UI deletes audit rows.
    """

    dependencies = [("governance", "0001_initial")]

    operations = [
        migrations.RunSQL(
            sql=[
                FUNCTION,
                "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON governance_auditevent "
                "FOR EACH ROW EXECUTE FUNCTION governance_audit_append_only()",
            ],
            reverse_sql=[
                "DROP TRIGGER IF EXISTS audit_event_no_update ON governance_auditevent",
                "DROP FUNCTION IF EXISTS governance_audit_append_only()",
            ],
        )
    ]
