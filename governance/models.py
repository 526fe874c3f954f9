from django.conf import settings
from django.db import models


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit log is append-only.")

    def delete(self):
        raise PermissionError("The audit log is append-only.")


class AuditEvent(models.Model):
    """Append-only record of who did what. Written in the same transaction as the action.

    The table also refuses UPDATE at the database (see the migration's trigger).
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # PROTECT: people are deactivated, never deleted, while the log names them.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150, help_text="Username at the time, or the system process.")
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit log is append-only.")


class PurgeRecord(models.Model):
    """One per purge (a retention policy or the FOI five-day rule): counts only, no personal data."""

    class Category(models.TextChoices):
        FOI_MONITORING = "foi_monitoring", "FOI monitoring"
        UNTRIAGED_MENTIONS = "untriaged_mentions", "Untriaged mentions"
        DISMISSED_ITEMS = "dismissed_items", "Dismissed items"
        NEWS_ITEMS = "news_items", "News items"
        CASES = "cases", "Cases"
        HARVEST_RUNS = "harvest_runs", "Harvest runs"
        AUDIT_LOG = "audit_log", "Audit log"

    category = models.CharField(max_length=40, choices=Category.choices, db_index=True)
    cutoff = models.DateTimeField(help_text="Data collected before this went.")
    counts = models.JSONField(default=dict, help_text="Rows deleted, per table.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    basis = models.CharField(max_length=300, help_text="Why: the meeting, the ceiling or the policy behind it.")
    # The FOI five-day rule's meeting, where a meeting is behind it.
    meeting = models.ForeignKey(
        "foi_monitoring.ReviewMeeting", null=True, blank=True, on_delete=models.PROTECT, related_name="purge_records"
    )
    triggered_by = models.CharField(max_length=150, default="system", help_text="The process or person that ran it.")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_category_display()} purge {self.created_at:%Y-%m-%d %H:%M}: {self.total} rows"

    @property
    def total(self) -> int:
        return sum(v for v in self.counts.values() if isinstance(v, int))
