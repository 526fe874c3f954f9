import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


# Rows are also deleted in SQL (the FOI purge deletes items and their decisions), so the
# database itself clears a deleted leader from its members, and a deleted decision from
# the member decisions that followed it: the members become items of their own.
_SET_NULL_ON_DELETE = """
DO $$
DECLARE fk record;
BEGIN
  FOR fk IN
    SELECT c.conname, c.conrelid::regclass AS tbl, a.attname AS col, c.confrelid::regclass AS ref
    FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
    WHERE c.contype = 'f' AND ((c.conrelid = 'triage_inboxitem'::regclass AND a.attname = 'group_id')
                            OR (c.conrelid = 'triage_decision'::regclass AND a.attname = 'group_decision_id'))
  LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tbl, fk.conname);
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (%I) REFERENCES %s (id)'
                   ' ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED', fk.tbl, fk.conname, fk.col, fk.ref);
  END LOOP;
END $$;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_access_review_expiry_exclusion'),
        ('listening', '0005_channels_credentials_usage'),
        ('triage', '0005_decision_undo'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='inboxitem',
            name='inbox_open_idx',
        ),
        migrations.RemoveIndex(
            model_name='inboxitem',
            name='inbox_done_idx',
        ),
        migrations.AddField(
            model_name='decision',
            name='group_decision',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='triage.decision'),
        ),
        migrations.AddField(
            model_name='inboxitem',
            name='group',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='members', to='triage.inboxitem'),
        ),
        migrations.AddField(
            model_name='inboxitem',
            name='group_size',
            field=models.PositiveIntegerField(db_default=1, default=1),
        ),
        migrations.AddField(
            model_name='inboxitem',
            name='original_key',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='inboxitem',
            name='text_key',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name='inboxitem',
            index=models.Index(condition=models.Q(models.Q(('status', 'done'), _negated=True), ('group__isnull', True)), fields=['team', '-id'], name='inbox_open_idx'),
        ),
        migrations.AddIndex(
            model_name='inboxitem',
            index=models.Index(condition=models.Q(('status', 'done'), ('group__isnull', True)), fields=['team', '-decided_at'], name='inbox_done_idx'),
        ),
        migrations.AddIndex(
            model_name='inboxitem',
            index=models.Index(condition=models.Q(('group__isnull', True)), fields=['original_key'], name='inbox_leader_original_idx'),
        ),
        migrations.AddIndex(
            model_name='inboxitem',
            index=models.Index(condition=models.Q(('group__isnull', True), ('text_key__isnull', False)), fields=['text_key'], name='inbox_leader_text_idx'),
        ),
        migrations.AddIndex(
            model_name='inboxitem',
            index=models.Index(condition=models.Q(('group__isnull', False)), fields=['group', '-id'], name='inbox_member_idx'),
        ),
        migrations.RunSQL(_SET_NULL_ON_DELETE, migrations.RunSQL.noop),
    ]
