"""The foreign keys onto mentions and inbox items check a delete with one lookup, not two.

Django declares every foreign key ON DELETE NO ACTION. For NO ACTION, PostgreSQL's
check of each deleted parent row runs two queries per referencing foreign key: is the
key still referenced, and has another row with the same key appeared since. ON DELETE
RESTRICT runs only the first. The five-day purge deletes a quarter of a million
mentions and inbox items at a time, each checked against four and three foreign keys;
with RESTRICT those checks take under half the time (`manage.py bench purge`).

Nothing else changes: the constraints stay DEFERRABLE INITIALLY DEFERRED, so inserting
a hit before its mention in one transaction still works. Only a delete of a row that
is still referenced fails, at the end of that statement rather than at COMMIT; Django's
deletion collector and the purge both delete children first. Integrity is as strict as
before. Django finds these constraints by column when it alters a field, so a later
migration that recreates one returns it to NO ACTION: correct, only slower.
"""

from django.db import migrations

FOREIGN_KEYS = [
    ("listening_mentionhit", "mention_id", "listening_mention"),
    ("foi_monitoring_authoritysignal", "mention_id", "listening_mention"),
    ("triage_inboxitem", "mention_id", "listening_mention"),
    ("triage_circulation", "mention_id", "listening_mention"),
    ("triage_decision", "item_id", "triage_inboxitem"),
    ("triage_case", "item_id", "triage_inboxitem"),
    ("triage_circulation", "item_id", "triage_inboxitem"),
]


def _redefine(action: str, keys=FOREIGN_KEYS) -> str:
    """SQL redefining `keys`, (table, column, referenced table), with ON DELETE `action`."""
    rows = ", ".join(f"('{table}', '{column}', '{referenced}')" for table, column, referenced in keys)
    return f"""
DO $$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT c.conname, k.tbl, k.col, k.ref
    FROM (VALUES {rows}) AS k(tbl, col, ref)
    JOIN pg_constraint c ON c.contype = 'f' AND c.conrelid = k.tbl::regclass AND c.confrelid = k.ref::regclass
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] AND a.attname = k.col
  LOOP
    EXECUTE format(
      'ALTER TABLE %I DROP CONSTRAINT %I, ADD CONSTRAINT %I FOREIGN KEY (%I) REFERENCES %I (id)'
      ' ON DELETE {action} DEFERRABLE INITIALLY DEFERRED',
      r.tbl, r.conname, r.conname, r.col, r.ref);
  END LOOP;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("foi_monitoring", "0002_signals_flags_meetings"),
        ("listening", "0005_channels_credentials_usage"),
        ("triage", "0004_spike_alerts"),
    ]

    operations = [migrations.RunSQL(_redefine("RESTRICT"), reverse_sql=_redefine("NO ACTION"))]
