import hashlib
import json
from datetime import UTC

from django.conf import settings
from django.db import models
from django.utils import timezone

# The previous hash of the first event ever written: the chain's anchor.
GENESIS_HASH = "0" * 64


def _canonical(value):
    """A JSON value as it reads back from jsonb: integral floats become ints (jsonb drops 1e+20's exponent)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def audit_hash(
    *, id: int, at, actor_id: int | None, actor_label: str, action: str, object_type: str, object_id: str,
    object_repr: str, ip: str | None, details, previous_hash: str,
) -> str:
    """SHA-256 over one event's fields, in a fixed order, and the hash of the event before it.

    One canonical JSON array (sorted keys, no spaces, UTF-8): the same bytes whether the
    values come from the caller or back from the database.
    """
    fields = [
        id, at.astimezone(UTC).isoformat(timespec="microseconds"), actor_id, actor_label, action,
        object_type, object_id, object_repr, ip, _canonical(details), previous_hash,
    ]
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit log is append-only.")

    def delete(self):
        raise PermissionError("The audit log is append-only.")


class AuditEvent(models.Model):
    """Append-only record of who did what. Written in the same transaction as the action.

    The table also refuses UPDATE at the database (see the migration's trigger).
    Each row holds the hash of the row before it and its own (`audit_hash`), so
    the rows form a chain: a changed, removed or reordered row breaks it, and
    `verify_audit_log` names where. Only the retention purge deletes rows, always
    the oldest ones, so the chain still verifies from the oldest remaining row.
    """

    # Set by audit_event_record under the chain's lock (auto_now_add would replace it after hashing).
    at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
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
    previous_hash = models.CharField(max_length=64, default=GENESIS_HASH, editable=False)
    hash = models.CharField(max_length=64, default="", editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"]), models.Index(fields=["actor_label", "id"])]
        constraints = [
            # Two events after the same one would fork the chain: the database refuses the second.
            models.UniqueConstraint(fields=["previous_hash"], name="audit_event_one_successor"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"

    @property
    def details_json(self) -> str:
        return json.dumps(self.details, sort_keys=True, ensure_ascii=False)

    def computed_hash(self) -> str:
        """The hash this row's stored fields give; equal to `hash` unless the row was changed."""
        return audit_hash(
            id=self.id, at=self.at, actor_id=self.actor_id, actor_label=self.actor_label, action=self.action,
            object_type=self.object_type, object_id=self.object_id, object_repr=self.object_repr, ip=self.ip,
            details=self.details, previous_hash=self.previous_hash,
        )

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
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
        CIRCULATIONS = "circulations", "Circulations"
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
    # The retention policy behind it, where a policy is.
    policy = models.ForeignKey(
        "governance.RetentionPolicy", null=True, blank=True, on_delete=models.PROTECT, related_name="purge_records"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_category_display()} purge {self.created_at:%Y-%m-%d %H:%M}: {self.total} rows"

    @property
    def total(self) -> int:
        return sum(v for v in self.counts.values() if isinstance(v, int))


class RetentionPolicy(models.Model):
    """How long one category of data is kept. One row per category; FOI monitoring has its own five-day rule.

    `days` counts from the moment that starts the category's clock (DESIGN.md, Retention):
    a mention's collection, an item's decision, a case's closing, a circulation's sending,
    a harvest run's end, an audit event's time.
    """

    Category = PurgeRecord.Category
    CATEGORIES = [c for c in PurgeRecord.Category if c != PurgeRecord.Category.FOI_MONITORING]
    # Defaults a new installation starts with; an admin changes them in the app.
    DEFAULT_DAYS = {
        Category.UNTRIAGED_MENTIONS: 90,
        Category.DISMISSED_ITEMS: 90,
        Category.NEWS_ITEMS: 365,
        Category.CASES: 6 * 365,
        Category.CIRCULATIONS: 365,
        Category.HARVEST_RUNS: 90,
        Category.AUDIT_LOG: 6 * 365,
    }
    MIN_DAYS = 1
    MAX_DAYS = 100 * 365

    category = models.CharField(max_length=40, choices=Category.choices, unique=True)
    days = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["category"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(days__gte=1) & models.Q(days__lte=36500), name="retention_days_in_range"
            ),
            models.CheckConstraint(condition=~models.Q(category="foi_monitoring"), name="retention_not_foi"),
        ]

    def __str__(self):
        return f"{self.get_category_display()}: {self.days} days"


class ErasureRecord(models.Model):
    """One erasure of a person's data (governance.subject_access): who, when, why and counts only.

    Never the handle or the name: the record outlives the data it describes, so it
    must not hold it again. The reason is checked for the handle and name before saving.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # PROTECT: people are deactivated, never deleted, while records name them.
    erased_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    platform = models.CharField(max_length=20)
    reason = models.CharField(max_length=300)
    counts = models.JSONField(default=dict, help_text="Rows deleted, anonymised or redacted, per table.")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Erasure {self.pk} on {self.created_at:%Y-%m-%d}: {self.total} rows"

    @property
    def total(self) -> int:
        return sum(v for v in self.counts.values() if isinstance(v, int))


class SuppressedAuthor(models.Model):
    """An author whose posts Earshot no longer stores, after their data was erased.

    Held as a keyed hash of the platform and the handle (governance.subject_access.
    suppression), never the handle itself: the list outlives the data, as the erasure
    record does, and must not hold it again. Ingest hashes each post's author the same
    way and skips the post when the hash is listed.
    """

    platform = models.CharField(max_length=20)
    digest = models.CharField(max_length=64, help_text="HMAC-SHA256 of the platform and the case-folded handle.")
    created_at = models.DateTimeField(auto_now_add=True)
    erasure = models.ForeignKey(ErasureRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["platform", "digest"], name="suppressed_author_unique")]

    def __str__(self):
        return f"A suppressed author on {self.platform}"
