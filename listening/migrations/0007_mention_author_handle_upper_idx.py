from django.db import migrations


class Migration(migrations.Migration):
    """An index on the upper-cased author handle: the inbox search finds `@jane` as the author, in any case.

    Core PostgreSQL only, so the embedded server runs it too.
    """

    dependencies = [("listening", "0006_saved_search_publishable_purpose_statement")]

    operations = [
        migrations.RunSQL(
            sql="CREATE INDEX mention_author_handle_upper_idx ON listening_mention (upper(author_handle))",
            reverse_sql="DROP INDEX IF EXISTS mention_author_handle_upper_idx",
        )
    ]
