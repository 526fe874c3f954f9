"""The hits' foreign key onto mentions is ON DELETE RESTRICT again.

foi_monitoring migration 0003 made the foreign keys onto mentions and inbox items
RESTRICT, so that the five-day purge checks each deleted row with one lookup, not two.
Migration 0009 dropped the hits' single-column index on the mention, and Django, to
alter the field, dropped and recreated its foreign key as NO ACTION: the purge of a
million rows slowed by most of a second. This puts RESTRICT back, the same way; a test
now checks every one of those keys.
"""

from django.db import migrations


def _redefine(action: str) -> str:
    return f"""
DO $$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT c.conname
    FROM pg_constraint c
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] AND a.attname = 'mention_id'
    WHERE c.contype = 'f' AND c.conrelid = 'listening_mentionhit'::regclass
      AND c.confrelid = 'listening_mention'::regclass
  LOOP
    EXECUTE format(
      'ALTER TABLE listening_mentionhit DROP CONSTRAINT %I, ADD CONSTRAINT %I FOREIGN KEY (mention_id)'
      ' REFERENCES listening_mention (id) ON DELETE {action} DEFERRABLE INITIALLY DEFERRED',
      r.conname, r.conname);
  END LOOP;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("listening", "0010_matching_generation"),
        ("foi_monitoring", "0003_restrict_purged_foreign_keys"),
    ]

    operations = [migrations.RunSQL(_redefine("RESTRICT"), reverse_sql=_redefine("NO ACTION"))]
