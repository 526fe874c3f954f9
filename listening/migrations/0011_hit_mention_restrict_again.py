"""The hits' foreign key onto mentions is ON DELETE RESTRICT again.

foi_monitoring migration 0003 made the foreign keys onto mentions and inbox items
RESTRICT, so that the five-day purge checks each deleted row with one lookup, not two.
Migration 0009 dropped the hits' single-column index on the mention, and Django, to
alter the field, dropped and recreated its foreign key as NO ACTION: the purge of a
million rows slowed by most of a second. This puts RESTRICT back, the same way; a test
now checks every one of those keys.
"""

import importlib

from django.db import migrations

# The same redefinition as foi_monitoring 0003, for this one key.
_redefine = importlib.import_module("foi_monitoring.migrations.0003_restrict_purged_foreign_keys")._redefine
HIT_MENTION = [("listening_mentionhit", "mention_id", "listening_mention")]


class Migration(migrations.Migration):
    dependencies = [
        ("listening", "0010_matching_generation"),
        ("foi_monitoring", "0003_restrict_purged_foreign_keys"),
    ]

    operations = [migrations.RunSQL(_redefine("RESTRICT", HIT_MENTION), reverse_sql=_redefine("NO ACTION", HIT_MENTION))]
