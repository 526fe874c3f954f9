from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Team
from listening.models import Mention


class InboxItem(models.Model):
    """A mention in one team's inbox. One per (team, mention), however many searches hit it."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="inbox_items")
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="inbox_items")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["team", "mention"], name="inbox_item_team_mention_unique")]
        indexes = [
            models.Index(fields=["team", "-id"], name="inbox_open_idx", condition=~Q(status="done")),
            models.Index(fields=["team", "-decided_at"], name="inbox_done_idx", condition=Q(status="done")),
        ]

    def __str__(self):
        return f"{self.team}: {self.mention}"

    @property
    def latest_decision(self):
        decisions = getattr(self, "_prefetched_objects_cache", {}).get("decisions")
        if decisions is not None:
            return decisions[0] if decisions else None
        return self.decisions.order_by("-decided_at", "-id").first()


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

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self):
        return f"{self.get_outcome_display()} by {self.decided_by} at {self.decided_at:%Y-%m-%d %H:%M}"
