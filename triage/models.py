from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Team
from listening.models import Mention, SavedSearch


class InboxItem(models.Model):
    """A mention in one team's inbox. One per (team, mention), however many searches hit it."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    # Ingest writes every index on every item: the team is found through the unique
    # (team, mention) index, and people through indexes of the items that name one.
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="inbox_items", db_index=False)
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="inbox_items")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # One item per viral post (triage/grouping.py): the leader of the item's group, empty
    # for a leader; the leader keeps the group's size, counted at ingest.
    group = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="members", db_index=False
    )
    group_size = models.PositiveIntegerField(default=1, db_default=1)  # rows written in SQL count one
    original_key = models.BigIntegerField(null=True, blank=True)
    text_key = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["team", "mention"], name="inbox_item_team_mention_unique")]
        indexes = [
            # The inbox lists leaders only: a group shows once.
            models.Index(
                fields=["team", "-id"], name="inbox_open_idx", condition=~Q(status="done") & Q(group__isnull=True)
            ),
            models.Index(
                fields=["team", "-decided_at", "-id"], name="inbox_done_idx",
                condition=Q(status="done") & Q(group__isnull=True),
            ),
            # "Mine" and a named person's open items, in page order. Only assigned items are
            # in it, so ingest (which assigns nobody) never writes to it.
            models.Index(
                fields=["assignee", "team", "-id"], name="inbox_open_assigned_idx",
                condition=~Q(status="done") & Q(group__isnull=True) & Q(assignee__isnull=False),
            ),
            # Ingest finds a group's leader by either key.
            # (The keys include the team; see triage/grouping.py.)
            models.Index(fields=["original_key"], name="inbox_leader_original_idx", condition=Q(group__isnull=True)),
            models.Index(
                fields=["text_key"],
                name="inbox_leader_text_idx",
                condition=Q(group__isnull=True) & Q(text_key__isnull=False),
            ),
            models.Index(fields=["group", "-id"], name="inbox_member_idx", condition=Q(group__isnull=False)),
            models.Index(fields=["assignee"], name="inbox_assignee_idx", condition=Q(assignee__isnull=False)),
            models.Index(fields=["claimed_by"], name="inbox_claimed_by_idx", condition=Q(claimed_by__isnull=False)),
        ]

    def __str__(self):
        return f"{self.team}: {self.mention}"

    @property
    def audit_repr(self) -> str:
        # The audit log is never edited, so it names the item, not the post's author.
        return f"{self.team}: inbox item {self.pk}"

    @property
    def is_group_leader(self) -> bool:
        return self.group_id is None and self.group_size > 1

    @property
    def group_leader_id(self) -> int:
        return self.group_id or self.pk

    @property
    def latest_decision(self):
        """The decision in force: the newest one not undone."""
        decisions = getattr(self, "_prefetched_objects_cache", {}).get("decisions")
        if decisions is not None:
            return next((decision for decision in decisions if decision.undone_at is None), None)
        return self.decisions.filter(undone_at__isnull=True).order_by("-decided_at", "-id").first()

    @property
    def claim_holder(self):
        """Who is triaging the item now: the claimant while the claim is fresh, else None."""
        if self.claimed_by_id is None or self.claimed_at is None or self.status == self.Status.DONE:
            return None
        if self.claimed_at <= timezone.now() - timedelta(seconds=settings.EARSHOT_CLAIM_SECONDS):
            return None
        return self.claimed_by


class Outcome(models.TextChoices):
    ENQUIRY = "enquiry", "Enquiry"
    COMPLAINT = "complaint", "Complaint"
    INFORMATION_REQUEST = "information_request", "Information request"
    NEWS_ITEM = "news_item", "News item"
    NO_ACTION = "no_action", "No action"


class InformationRequestType(models.TextChoices):
    FOI = "foi", "FOI"
    EIR = "eir", "EIR"
    SAR = "sar", "Subject access"


class Decision(models.Model):
    item = models.ForeignKey(InboxItem, on_delete=models.CASCADE, related_name="decisions")
    outcome = models.CharField(max_length=30, choices=Outcome.choices)
    request_type = models.CharField(max_length=10, choices=InformationRequestType.choices, blank=True)
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)
    # An undo keeps the decision in the history and says who took it back, and when.
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # A member's decision made with its group: the leader's decision it follows.
    group_decision = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self):
        return f"{self.get_outcome_display()} by {self.decided_by} at {self.decided_at:%Y-%m-%d %H:%M}"


class CaseKind(models.TextChoices):
    ENQUIRY = "enquiry", "Enquiry"
    COMPLAINT = "complaint", "Complaint"
    INFORMATION_REQUEST = "information_request", "Information request"


CASE_OUTCOMES = frozenset(CaseKind.values)


class Case(models.Model):
    """The casework that follows an enquiry, a complaint or an information request.

    One per inbox item. An information request carries its statutory clock: the day it
    was received (the post's UK day), the day the clock last (re)started, and the due
    date, which is empty while the clock is stopped waiting for the requester.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        WAITING = "waiting", "Waiting for the requester"
        CLOSED = "closed", "Closed"

    class Resolution(models.TextChoices):
        ANSWERED = "answered", "Answered in full"
        PARTLY_ANSWERED = "partly_answered", "Partly answered"
        REFUSED = "refused", "Refused (exemption or exception)"
        NOT_HELD = "not_held", "Information not held"
        RESOLVED = "resolved", "Resolved"
        NOT_UPHELD = "not_upheld", "Not upheld"
        UPHELD = "upheld", "Upheld"
        WITHDRAWN = "withdrawn", "Withdrawn or lapsed"
        REDECIDED = "redecided", "No longer a case (decision changed)"

    reference = models.CharField(max_length=40, unique=True)
    sequence = models.BigIntegerField(unique=True)
    item = models.OneToOneField(InboxItem, on_delete=models.CASCADE, related_name="case")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="cases")
    forwarded_to = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="forwarded_cases"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=30, choices=CaseKind.choices)
    request_type = models.CharField(max_length=10, choices=InformationRequestType.choices, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)
    received_on = models.DateField()
    clock_started_on = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    extended = models.BooleanField(default=False)
    extension_reason = models.TextField(blank=True)
    nation = models.CharField(max_length=20, default="england-and-wales")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["team", "-id"], name="case_team_idx"),
            models.Index(fields=["forwarded_to", "-id"], name="case_forwarded_idx"),
            models.Index(fields=["team", "due_date", "id"], name="case_team_due_idx", condition=Q(status="open")),
            models.Index(
                fields=["forwarded_to", "due_date", "id"], name="case_forwarded_due_idx", condition=Q(status="open")
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def has_clock(self) -> bool:
        return self.kind == CaseKind.INFORMATION_REQUEST

    @property
    def days_left(self) -> int | None:
        """Calendar days to the due date from today in the UK; negative when overdue."""
        if self.due_date is None or self.status != self.Status.OPEN:
            return None
        from django.utils import timezone

        return (self.due_date - timezone.localdate()).days

    @property
    def days_overdue(self) -> int:
        return max(0, -(self.days_left or 0))

    @property
    def is_overdue(self) -> bool:
        return self.days_left is not None and self.days_left < 0

    def kind_label(self) -> str:
        if self.request_type:
            return f"{self.get_request_type_display()} request"
        return self.get_kind_display()


class CaseEvent(models.Model):
    """One line of a case's history: opened, a note, a pause, an extension, closing."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=30)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]


class ClockPause(models.Model):
    """A stop of the statutory clock while the requester is asked to clarify."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="pauses")
    paused_on = models.DateField()
    paused_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField()
    due_date_before = models.DateField(null=True, blank=True)
    resumed_on = models.DateField(null=True, blank=True)
    resumed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_date_after = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["paused_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(resumed_on__isnull=True), name="one_open_pause_per_case")
        ]


class Circulation(models.Model):
    """Mail sent out of Earshot: a circulated news item, a digest, or the cases falling due.

    Kept, because what was shared with whom is itself disclosable.
    """

    class Kind(models.TextChoices):
        NEWS_ITEM = "news_item", "Circulated item"
        DIGEST = "digest", "News digest"
        DUE_CASES = "due_cases", "Cases falling due"
        SPIKE_ALERT = "spike_alert", "Spike alert"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NEWS_ITEM)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="circulations")
    # Links for finding the post again, not the record: a circulation keeps what was sent
    # (subject, note, the post's author and address, the payload) when its item or post is
    # deleted, and only loses these links. So they are not foreign keys in the database:
    # every deletion of items and mentions in bulk (the five-day purge, retention, erasure)
    # clears them first in SQL, and the ORM's SET_NULL does it for single deletes. Without
    # the constraints, PostgreSQL skips two checks for every inbox item and mention deleted,
    # a quarter of the purge's foreign-key work. Ids are never reused, so a link that was
    # somehow left behind can only point at nothing, never at another post.
    item = models.ForeignKey(InboxItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="circulations",
                             db_constraint=False)
    mention = models.ForeignKey(Mention, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                db_constraint=False)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True)
    # What the mail is about, kept as it was sent: the post may be purged later.
    subject = models.CharField(max_length=200)
    saved_searches = models.CharField(max_length=500, blank=True)
    mention_url = models.URLField(max_length=2000, blank=True)
    mention_author = models.CharField(max_length=300, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["team", "-id"], name="circulation_team_idx")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.subject}"

    @property
    def audit_repr(self) -> str:
        # The subject quotes the post and its author; the audit log is never edited.
        return f"{self.get_kind_display()} {self.pk}"

    @property
    def has_failed(self) -> bool:
        return any(r.status == CirculationRecipient.Status.FAILED for r in self.recipients.all())


class CirculationRecipient(models.Model):
    """One email of a circulation: one per recipient team, each sent and retried on its own."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        RETRYING = "retrying", "Failed, retrying"
        FAILED = "failed", "Failed"

    circulation = models.ForeignKey(Circulation, on_delete=models.CASCADE, related_name="recipients")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="received_circulations")
    email = models.EmailField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["team__name", "id"]
        constraints = [models.UniqueConstraint(fields=["circulation", "team"], name="one_email_per_team_per_circulation")]
        indexes = [models.Index(fields=["team", "-id"], name="circulation_recipient_team_idx")]


class TeamMailPreference(models.Model):
    """What a team receives by email without anyone pressing send."""

    class Digest(models.TextChoices):
        OFF = "off", "No digest"
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly (Mondays)"

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="mail_preference")
    news_digest = models.CharField(max_length=10, choices=Digest.choices, default=Digest.OFF)
    news_digest_next_at = models.DateTimeField(null=True, blank=True)
    due_cases_daily = models.BooleanField(default=False)
    due_cases_next_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class SpikeThreshold(models.Model):
    """A saved search's own spike thresholds; searches without one use the EARSHOT_SPIKE_* defaults."""

    saved_search = models.OneToOneField(SavedSearch, on_delete=models.CASCADE, related_name="spike_threshold")
    enabled = models.BooleanField(default=True)
    ratio = models.DecimalField(max_digits=5, decimal_places=2, help_text="Last hour against the hourly baseline.")
    min_count = models.PositiveIntegerField(help_text="Fewer mentions than this in the hour never alert.")
    cooldown_minutes = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(ratio__gte=1) & Q(ratio__lte=100), name="spike_ratio_range"),
            models.CheckConstraint(condition=Q(min_count__gte=1) & Q(min_count__lte=100000), name="spike_min_count_range"),
            models.CheckConstraint(
                condition=Q(cooldown_minutes__gte=10) & Q(cooldown_minutes__lte=10080), name="spike_cooldown_range"
            ),
        ]


class SpikeAlert(models.Model):
    """A saved search's last hour well above its hourly baseline over the 12 hours before."""

    saved_search = models.ForeignKey(SavedSearch, on_delete=models.CASCADE, related_name="spike_alerts")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="spike_alerts")
    window_end = models.DateTimeField()
    count = models.PositiveIntegerField()
    baseline = models.FloatField(help_text="Mentions per hour over the 12 hours before the last one.")
    ratio = models.FloatField()
    min_count = models.PositiveIntegerField()
    top_authors = models.JSONField(default=list)
    top_terms = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["saved_search", "-created_at"], name="spike_search_idx"),
            models.Index(fields=["team", "-created_at"], name="spike_team_idx"),
        ]

    def __str__(self):
        return f"Spike in {self.saved_search.name}: {self.count} in an hour"
