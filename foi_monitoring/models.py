from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from listening.models import Mention


class PublicAuthority(models.Model):
    """A body subject to FOI, seeded from the bundled UK registers and editable by admins."""

    name = models.CharField(max_length=300)
    short_name = models.CharField(max_length=120, blank=True)
    aliases = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    handles = models.JSONField(default=dict, blank=True, help_text='Per platform, e.g. {"x": ["LewishamCouncil"]}')
    web_domains = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    authority_type = models.CharField(max_length=120, blank=True)
    nation = models.CharField(max_length=40, blank=True)
    region = models.CharField(max_length=80, blank=True)
    code = models.CharField(max_length=20, blank=True, help_text="mySociety local-authority code where known")
    source_id = models.CharField(max_length=200, blank=True, help_text="Identifier in the register it came from")
    active = models.BooleanField(default=True)
    # The linking automaton is rebuilt when the register's stamp (count, newest id, newest change) moves.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "public authorities"
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=~models.Q(code=""), name="authority_code_unique"),
            models.UniqueConstraint(
                fields=["source_id"], condition=~models.Q(source_id=""), name="authority_source_id_unique"
            ),
        ]

    def __str__(self):
        return self.name

    def handle_list(self) -> list[tuple[str, str]]:
        """(platform, handle) pairs, tolerant of hand-edited JSON."""
        pairs = []
        if isinstance(self.handles, dict):
            for platform, handles in self.handles.items():
                for handle in handles if isinstance(handles, list) else [handles]:
                    if isinstance(handle, str) and handle.strip().lstrip("@"):
                        pairs.append((str(platform), handle.strip().lstrip("@")))
        return pairs


class Signal(models.TextChoices):
    OVERDUE = "overdue", "Overdue"
    REFUSED = "refused", "Refused"
    INTERNAL_REVIEW = "internal_review", "Internal review"
    REGULATOR_COMPLAINT = "regulator_complaint", "Complaint to the regulator"


class AuthoritySignal(models.Model):
    """Evidence: one mention that names an authority and carries FOI signals.

    Monitoring data: deleted by the five-day rule (foi_monitoring.purge).
    """

    authority = models.ForeignKey(PublicAuthority, on_delete=models.CASCADE, related_name="signals")
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="authority_signals")
    codes = ArrayField(models.CharField(max_length=30, choices=Signal.choices))
    # Platform and handle, so distinct authors are counted without reading posts.
    author_key = models.CharField(max_length=230)
    occurred_at = models.DateTimeField(help_text="When the post was written (or first seen).")
    collected_at = models.DateTimeField(help_text="When FOI monitoring collected the post.")
    confidence = models.PositiveSmallIntegerField(default=1, help_text="1 is the most confident authority of the post.")

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["authority", "mention"], name="authority_signal_unique")]
        indexes = [
            models.Index(fields=["authority", "-occurred_at"], name="signal_authority_time_idx"),
            models.Index(fields=["collected_at"], name="signal_collected_idx"),
        ]

    def __str__(self):
        return f"{self.authority}: {', '.join(self.codes)}"

    def code_labels(self) -> list[str]:
        return [Signal(code).label for code in self.codes if code in Signal.values]


class MonitoringSettings(models.Model):
    """The flag thresholds, one row, edited by admins in Django admin (audited there)."""

    authors_threshold = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(2), MaxValueValidator(1000)],
        help_text="Distinct authors within the window that flag an authority. At least 2: one account never flags alone.",
    )
    window_days = models.PositiveSmallIntegerField(default=14, validators=[MinValueValidator(1), MaxValueValidator(90)])
    spike_factor = models.FloatField(
        default=3.0, validators=[MinValueValidator(1.5), MaxValueValidator(100)],
        help_text="Flag when the last window's signals exceed this many times the authority's own baseline.",
    )
    spike_min_signals = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(2), MaxValueValidator(1000)],
        help_text="A spike needs at least this many signals in the window.",
    )
    spike_min_authors = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(2), MaxValueValidator(1000)],
        help_text="A spike needs signals from at least this many distinct authors.",
    )
    baseline_days = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(7), MaxValueValidator(365)],
        help_text="Days before the window that make the authority's baseline.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "monitoring settings"

    def __str__(self):
        return f"{self.authors_threshold} authors in {self.window_days} days; spike ×{self.spike_factor:g}"

    @classmethod
    def current(cls) -> "MonitoringSettings":
        return cls.objects.order_by("id").first() or cls.objects.get_or_create(pk=1)[0]


class Flag(models.Model):
    """An authority whose signals crossed a threshold. Counts only: the posts are the signals."""

    class Reason(models.TextChoices):
        AUTHORS = "authors", "Distinct authors in the window"
        SPIKE = "spike", "Spike against its baseline"

    authority = models.ForeignKey(PublicAuthority, on_delete=models.PROTECT, related_name="flags")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    opened_at = models.DateTimeField()
    authors_count = models.PositiveIntegerField()
    signals_count = models.PositiveIntegerField()
    window_days = models.PositiveSmallIntegerField()
    baseline_per_window = models.FloatField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by_meeting = models.ForeignKey(
        "ReviewMeeting", null=True, blank=True, on_delete=models.PROTECT, related_name="closed_flags"
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["authority"], condition=Q(closed_at__isnull=True), name="one_open_flag_per_authority"),
        ]

    def __str__(self):
        return f"{self.authority} flagged {self.opened_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class ReviewMeeting(models.Model):
    """A meeting of the FOI group. Its agenda is filled from the open flags when it is created."""

    starts_at = models.DateTimeField()
    attendees = models.TextField(blank=True, help_text="Names, one a line.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Minutes finished; its purge may run at once.")
    purged_at = models.DateTimeField(null=True, blank=True, help_text="When the five-day purge for it first ran.")

    class Meta:
        ordering = ["-starts_at", "-id"]

    def __str__(self):
        return f"Review meeting {self.starts_at:%d %B %Y}"

    @property
    def purge_due_at(self):
        """The five-day rule's deadline for what was collected before this meeting."""
        return self.starts_at + timedelta(days=settings.EARSHOT_FOI_PURGE_DAYS_AFTER_MEETING)

    def attendee_list(self) -> list[str]:
        return [line.strip() for line in self.attendees.splitlines() if line.strip()]


class ReviewOutcome(models.TextChoices):
    NO_ACTION = "no_action", "No action"
    KEEP_MONITORING = "keep_monitoring", "Keep monitoring"
    CONTACT_AUTHORITY = "contact_authority", "Contact the authority"
    PRACTICE_RECOMMENDATION = "practice_recommendation", "Practice recommendation"
    CONSIDER_ENFORCEMENT_NOTICE = "consider_enforcement_notice", "Consider an enforcement notice"


class ReviewDecision(models.Model):
    """One authority on a meeting's agenda, and what the meeting decided about it.

    An enforcement record: it keeps counts and the authority, never a copy of a post,
    so it outlives the five-day purge.
    """

    meeting = models.ForeignKey(ReviewMeeting, on_delete=models.PROTECT, related_name="agenda")
    authority = models.ForeignKey(PublicAuthority, on_delete=models.PROTECT, related_name="review_decisions")
    flag = models.ForeignKey(Flag, null=True, blank=True, on_delete=models.PROTECT, related_name="reviews")
    signals_count = models.PositiveIntegerField(default=0)
    authors_count = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=40, choices=ReviewOutcome.choices, blank=True)
    notes = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["meeting", "authority__name"]
        constraints = [models.UniqueConstraint(fields=["meeting", "authority"], name="review_decision_unique")]

    def __str__(self):
        return f"{self.meeting}: {self.authority} — {self.get_outcome_display() or 'undecided'}"


class ScanMark(models.Model):
    """How far the monitoring scan has read MentionHits (a high-water mark on their id)."""

    last_hit_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
