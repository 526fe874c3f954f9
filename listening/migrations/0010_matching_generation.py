"""A generation number for what ingest matches against, bumped by triggers.

Every page a worker ingests checks that its cached matcher is current. It used to
hash every watch-list member and count the enabled searches on each page; now it
reads one row. Statement-level triggers on the tables the matcher is built from
bump the row whenever a column the matcher reads changes, however the change is
made (a form, the admin, a queryset `update()`, raw SQL). The number comes from a
sequence, so a change rolled back never leaves its number to be reused by another:
a cached matcher is keyed by a number that names one committed state.
"""

from django.db import migrations

# table -> the columns the matcher reads (an UPDATE of any other column changes nothing)
WATCHED = {
    "listening_savedsearch": ["query", "enabled", "team_id"],
    "listening_savedsearchplatform": ["saved_search_id", "platform"],
    "listening_watchlist": ["name"],
    "listening_watchlistmember": ["watch_list_id", "platform", "handle"],
    "governance_suppressedauthor": ["platform", "digest"],
}

FORWARD = [
    "CREATE SEQUENCE listening_matching_generation_seq",
    "CREATE TABLE listening_matching_generation (generation bigint NOT NULL)",
    "INSERT INTO listening_matching_generation VALUES (nextval('listening_matching_generation_seq'))",
    """
    CREATE FUNCTION listening_matching_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE listening_matching_generation SET generation = nextval('listening_matching_generation_seq');
        RETURN NULL;
    END
    $$
    """,
] + [
    f"CREATE TRIGGER {table}_matching_changed AFTER INSERT OR DELETE OR UPDATE OF {', '.join(columns)} OR TRUNCATE"
    f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION listening_matching_changed()"
    for table, columns in WATCHED.items()
]

BACKWARD = [f"DROP TRIGGER {table}_matching_changed ON {table}" for table in WATCHED] + [
    "DROP FUNCTION listening_matching_changed()",
    "DROP TABLE listening_matching_generation",
    "DROP SEQUENCE listening_matching_generation_seq",
]


class Migration(migrations.Migration):
    dependencies = [
        ("listening", "0009_fewer_ingest_indexes"),
        ("governance", "0007_suppressed_author"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
