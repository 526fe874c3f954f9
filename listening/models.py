from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from accounts.models import Team


class Platform(models.TextChoices):
    X = "x", "X"
    BLUESKY = "bluesky", "Bluesky"
    MASTODON = "mastodon", "Mastodon"
    YOUTUBE = "youtube", "YouTube"
    FACEBOOK = "facebook", "Facebook Page"
    REDDIT = "reddit", "Reddit"
    RSS = "rss", "News feeds (RSS/Atom)"
    DEMO = "demo", "Demo"


class WatchList(models.Model):
    """A named set of accounts, e.g. "tech journalists", used by `list:` in queries."""

    name = models.CharField(max_length=120, unique=True)
    description = models.CharField(max_length=300, blank=True)
    x_list_id = models.CharField("X list id", max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(models.functions.Lower("name"), name="watch_list_name_ci_unique"),
        ]

    def __str__(self):
        return self.name


class WatchListMember(models.Model):
    watch_list = models.ForeignKey(WatchList, on_delete=models.CASCADE, related_name="members")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    handle = models.CharField(max_length=200, help_text="Without the @.")

    class Meta:
        ordering = ["platform", "handle"]
        constraints = [
            models.UniqueConstraint(fields=["watch_list", "platform", "handle"], name="watch_list_member_unique"),
        ]

    def __str__(self):
        return f"@{self.handle} ({self.get_platform_display()})"

    def save(self, *args, **kwargs):
        self.handle = self.handle.strip().lstrip("@")
        super().save(*args, **kwargs)


class Purpose(models.TextChoices):
    ENGAGEMENT = "engagement", "Engagement"
    NEWS = "news", "News"
    FOI_MONITORING = "foi_monitoring", "FOI monitoring"


class SavedSearch(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="saved_searches")
    name = models.CharField(max_length=120)
    query = models.TextField(help_text="Written in the Earshot query language.")
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.ENGAGEMENT)
    interval_minutes = models.PositiveIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)], help_text="Minutes between harvests."
    )
    enabled = models.BooleanField(default=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Deleting a saved search archives it: disabled, hidden from lists, its hits and
    # runs kept until retention removes them.
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["team__name", "name"]
        verbose_name_plural = "saved searches"
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="saved_search_name_unique_per_team")]

    def __str__(self):
        return f"{self.team}: {self.name}"

    def clean(self):
        from listening.query import QuerySyntaxError, parse

        try:
            parsed = parse(self.query)
        except QuerySyntaxError as error:
            raise ValidationError({"query": f"{error.message} (at character {error.position + 1})"}) from None
        known = {name.lower() for name in WatchList.objects.values_list("name", flat=True)}
        missing = sorted(name for name in parsed.watch_lists() if name.lower() not in known)
        if missing:
            raise ValidationError({"query": f"There is no watch list called {missing[0]!r}."})

    @property
    def platforms(self) -> list[str]:
        return [state.platform for state in self.platform_states.all()]


class SavedSearchPlatform(models.Model):
    """Per (saved search, platform): where harvesting got to and when it runs next.

    The dispatcher claims a due row with a conditional UPDATE on next_run_at and a
    fresh claim token; the harvest task only runs while it holds that token.
    """

    class Status(models.TextChoices):
        NEVER = "never", "Not run yet"
        OK = "ok", "OK"
        RATE_LIMITED = "rate_limited", "Rate limited"
        ERROR = "error", "Error"
        BAD_CREDENTIALS = "bad_credentials", "Bad credentials"

    saved_search = models.ForeignKey(SavedSearch, on_delete=models.CASCADE, related_name="platform_states")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    cursor = models.JSONField(default=dict, blank=True)
    next_run_at = models.DateTimeField(default=timezone.now)
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEVER)
    last_error = models.TextField(blank=True)

    CLAIM_LEASE = timedelta(minutes=10)

    class Meta:
        ordering = ["saved_search", "platform"]
        constraints = [
            models.UniqueConstraint(fields=["saved_search", "platform"], name="saved_search_platform_unique"),
        ]
        indexes = [models.Index(fields=["next_run_at"], name="search_platform_due_idx")]

    def __str__(self):
        return f"{self.saved_search.name} on {self.get_platform_display()}"


class HarvestRun(models.Model):
    saved_search = models.ForeignKey(SavedSearch, on_delete=models.CASCADE, related_name="runs")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    fetched = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    rate_limit_waits = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, default="running")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["saved_search", "platform", "-started_at"])]

    def __str__(self):
        return f"{self.saved_search.name} on {self.platform} at {self.started_at:%Y-%m-%d %H:%M}"


class Mention(models.Model):
    """One stored post, unique per (platform, external_id). Posts are attacker-controlled text."""

    platform = models.CharField(max_length=20, choices=Platform.choices)
    external_id = models.CharField(max_length=200)
    url = models.URLField(max_length=2000, blank=True)
    author_handle = models.CharField(max_length=200, blank=True, db_index=True)
    author_name = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    title = models.TextField(blank=True)
    lang = models.CharField(max_length=10, blank=True)
    links = ArrayField(models.TextField(), default=list, blank=True)
    mentions = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    in_reply_to_handle = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=20, default="post")
    posted_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    raw = models.JSONField(default=dict, blank=True)
    # search_vector: a generated tsvector column added in migration 0002.

    class Meta:
        ordering = ["-posted_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["platform", "external_id"], name="mention_platform_external_id_unique")]
        indexes = [models.Index(fields=["-first_seen_at"], name="mention_first_seen_idx")]

    def __str__(self):
        return f"{self.platform}:{self.external_id} by @{self.author_handle}"

    @property
    def safe_url(self) -> str:
        """The post's own URL, only if it is http(s); anything else is not linked."""
        return self.url if self.url.lower().startswith(("http://", "https://")) else ""


class MentionHit(models.Model):
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="hits")
    saved_search = models.ForeignKey(SavedSearch, on_delete=models.CASCADE, related_name="hits")
    spans = models.JSONField(default=dict, blank=True)
    matched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mention", "saved_search"], name="mention_hit_unique")]
        indexes = [models.Index(fields=["saved_search", "-matched_at"])]
