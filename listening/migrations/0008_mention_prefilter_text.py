from django.db import migrations, models

SOURCE_COLUMNS = (
    "platform", "text", "title", "url", "author_handle", "lang", "links", "mentions", "in_reply_to_handle", "kind",
)

# A row whose source columns change while prefilter_text does not is made NULL
# ("not computed"), so a stale value can never hide a match.
STALE_TRIGGER = [
    """
    CREATE FUNCTION listening_mention_prefilter_stale() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.prefilter_text IS NOT DISTINCT FROM OLD.prefilter_text THEN
            NEW.prefilter_text := NULL;
        END IF;
        RETURN NEW;
    END
    $$
    """,
    "CREATE TRIGGER mention_prefilter_stale BEFORE UPDATE ON listening_mention FOR EACH ROW WHEN ("
    + " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in SOURCE_COLUMNS)
    + ") EXECUTE FUNCTION listening_mention_prefilter_stale()",
]

# pg_trgm is a contrib extension: the embedded server (pgserver) lacks it, and a
# database user may not be allowed to create it. Without it the prefilter is the
# same LIKE condition, checked on the rows of the window instead of found by index.
TRIGRAM_INDEX = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')
       AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION pg_trgm;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pg_trgm could not be created: "Try it" runs without its trigram index';
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        EXECUTE 'CREATE INDEX mention_prefilter_trgm_idx ON listening_mention USING gin (prefilter_text gin_trgm_ops)';
    END IF;
END
$$
"""


def backfill(apps, schema_editor):
    """Compute prefilter_text for the mentions already stored, 2,000 at a time."""
    from listening.posts import Post
    from listening.query.prefilter import stored_haystack

    Mention = apps.get_model("listening", "Mention")
    last = 0
    while True:
        rows = list(
            Mention.objects.filter(id__gt=last).order_by("id").values_list("id", *SOURCE_COLUMNS)[:2000]
        )
        if not rows:
            return
        ids, texts = [], []
        for row in rows:
            values = dict(zip(("id", *SOURCE_COLUMNS), row))
            post = Post(
                platform=values["platform"], external_id="", text=values["text"], title=values["title"],
                url=values["url"], author_handle=values["author_handle"], lang=values["lang"],
                links=tuple(values["links"]), mentions=tuple(values["mentions"]),
                in_reply_to_handle=values["in_reply_to_handle"], kind=values["kind"],
            )
            ids.append(values["id"])
            texts.append(stored_haystack(post).replace("\x00", "\ufffd"))
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "UPDATE listening_mention m SET prefilter_text = u.prefilter_text"
                " FROM unnest(%s::bigint[], %s::text[]) AS u(id, prefilter_text) WHERE m.id = u.id",
                [ids, texts],
            )
        last = ids[-1]


class Migration(migrations.Migration):
    """The "Try it" prefilter: a stored skeleton of each mention, its trigram index and a stale guard."""

    dependencies = [
        ("listening", "0007_mention_author_handle_upper_idx"),
    ]

    operations = [
        migrations.AddField(
            model_name="mention",
            name="prefilter_text",
            field=models.TextField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunSQL(
            sql=STALE_TRIGGER,
            reverse_sql=[
                "DROP TRIGGER IF EXISTS mention_prefilter_stale ON listening_mention",
                "DROP FUNCTION IF EXISTS listening_mention_prefilter_stale()",
            ],
        ),
        migrations.RunSQL(
            sql=[
                TRIGRAM_INDEX,
                # Rows not computed yet are always candidates; this keeps finding them cheap.
                "CREATE INDEX mention_prefilter_missing_idx ON listening_mention (first_seen_at)"
                " WHERE prefilter_text IS NULL",
            ],
            reverse_sql=[
                "DROP INDEX IF EXISTS mention_prefilter_missing_idx",
                "DROP INDEX IF EXISTS mention_prefilter_trgm_idx",
            ],
        ),
    ]
