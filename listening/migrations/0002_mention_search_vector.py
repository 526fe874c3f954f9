from django.db import migrations


class Migration(migrations.Migration):
    """Full-text search over mentions: a stored generated tsvector and its GIN index.

    Core PostgreSQL only (no contrib extensions), so the embedded server runs it too.
    """

    dependencies = [("listening", "0001_initial")]

    operations = [
        migrations.RunSQL(
            sql=[
                "ALTER TABLE listening_mention ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
                "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
                "setweight(to_tsvector('english'::regconfig, coalesce(text, '')), 'B')) STORED",
                "CREATE INDEX mention_search_vector_idx ON listening_mention USING gin (search_vector)",
            ],
            reverse_sql=[
                "DROP INDEX IF EXISTS mention_search_vector_idx",
                "ALTER TABLE listening_mention DROP COLUMN IF EXISTS search_vector",
            ],
        )
    ]
