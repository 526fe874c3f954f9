"""The foreign keys the five-day purge deletes through are ON DELETE RESTRICT.

foi_monitoring migration 0003 sets them; Django recreates a foreign key as NO ACTION
whenever a later migration alters its field, which silently doubles the purge's
checking work for that key. This keeps every one of them in place.
"""

from django.db import connection


RESTRICTED = [
    ("listening_mentionhit", "mention_id"),
    ("foi_monitoring_authoritysignal", "mention_id"),
    ("triage_inboxitem", "mention_id"),
    ("triage_decision", "item_id"),
    ("triage_case", "item_id"),
]


def test_every_foreign_key_the_purge_deletes_through_is_restrict(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conrelid::regclass::text, a.attname, c.confdeltype, c.condeferrable, c.condeferred"
            " FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
            " WHERE c.contype = 'f'"
        )
        keys = {(table, column): rest for table, column, *rest in cursor.fetchall()}
    for key in RESTRICTED:
        assert keys[key] == ["r", True, True], key  # RESTRICT, still DEFERRABLE INITIALLY DEFERRED
