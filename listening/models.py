from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from accounts.models import Team
from listening.posts import Post
from listening.query.prefilter import stored_haystack


class Platform(models.TextChoices):
    X = "x", "X"
    BLUESKY = "bluesky", "Bluesky"
    MASTODON = "mastodon", "Mastodon"
    YOUTUBE = "youtube", "YouTube"
    FACEBOOK = "facebook", "Facebook Page"
    LINKEDIN = "linkedin", "LinkedIn Page"
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

    @property
    def audit_repr(self) -> str:
        # The audit log is never edited, so it names the row, not the person (see governance.subject_access).
        # A member deleted through an admin inline has lost its id by the time the event is written.
        which = f"watch list member {self.pk}" if self.pk else "a watch list member"
        return f"{which} ({self.get_platform_display()})"

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
    # What the transparency report says this search is for, and whether its query may be published there.
    purpose_statement = models.TextField(
        "why this search is run", max_length=1000, blank=True,
        help_text="In plain words, for the transparency report, which may be published: what this search "
        "looks for and why. Name no one.",
    )
    publishable = models.BooleanField(
        "publish the query", default=False,
        help_text="Show this search's query text in the transparency report. Leave off where the query "
        "names people or would help someone avoid it.",
    )
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


class HarvestStatus(models.TextChoices):
    NEVER = "never", "Not run yet"
    OK = "ok", "OK"
    RATE_LIMITED = "rate_limited", "Rate limited"
    ERROR = "error", "Error"
    BAD_CREDENTIALS = "bad_credentials", "Authentication failed"
    BUDGET_REACHED = "budget_reached", "Monthly budget reached"
    TIMED_OUT = "timed_out", "Stopped: took too long"


class HarvestSchedule(models.Model):
    """Where one harvest got to and when it runs next: a (saved search, platform) pair
    or a channel, claimed, leased and scheduled the same way.

    The dispatcher claims a due row with a conditional UPDATE on next_run_at and a
    fresh claim token; the harvest task only runs while it holds that token.
    """

    Status = HarvestStatus

    cursor = models.JSONField(default=dict, blank=True)
    next_run_at = models.DateTimeField(default=timezone.now)
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=20, choices=HarvestStatus.choices, default=HarvestStatus.NEVER)
    last_error = models.TextField(blank=True)
    # What the source said on its last run that people should know: a feature the
    # platform lacks, a permanent redirect followed.
    notes = models.JSONField(default=list, blank=True)

    CLAIM_LEASE = timedelta(minutes=10)

    class Meta:
        abstract = True


class SavedSearchPlatform(HarvestSchedule):
    """Per (saved search, platform): where harvesting got to and when it runs next."""

    saved_search = models.ForeignKey(SavedSearch, on_delete=models.CASCADE, related_name="platform_states")
    platform = models.CharField(max_length=20, choices=Platform.choices)

    class Meta:
        ordering = ["saved_search", "platform"]
        constraints = [
            models.UniqueConstraint(fields=["saved_search", "platform"], name="saved_search_platform_unique"),
        ]
        indexes = [models.Index(fields=["next_run_at"], name="search_platform_due_idx")]

    def __str__(self):
        return f"{self.saved_search.name} on {self.get_platform_display()}"

    @property
    def interval(self) -> timedelta:
        return timedelta(minutes=self.saved_search.interval_minutes)


class Channel(HarvestSchedule):
    """A stream read whole on its own schedule: a news feed, the organisation's own
    account (mentions, notifications), an X list. Every post is matched against every
    enabled saved search on its platform. What `channel` means per platform is in the
    README; each source validates it (`Source.channel_error`)."""

    platform = models.CharField(max_length=20, choices=Platform.choices)
    channel = models.CharField(max_length=1000, help_text="A feed URL, mentions, notifications, list:<id>, #tag …")
    name = models.CharField(max_length=120, blank=True)
    # A Mastodon instance; blank: the platform's configured base URL.
    base_url = models.CharField("instance", max_length=300, blank=True)
    enabled = models.BooleanField(default=True)
    interval_minutes = models.PositiveIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)], help_text="Minutes between harvests."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["platform", "name", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "base_url", "channel"], name="channel_unique_per_platform"),
        ]
        indexes = [models.Index(fields=["next_run_at"], name="channel_due_idx")]

    def __str__(self):
        return f"{self.name or self.channel} ({self.get_platform_display()})"

    @property
    def interval(self) -> timedelta:
        return timedelta(minutes=self.interval_minutes)


class PlatformCredential(models.Model):
    """One platform app's keys (one per instance for Mastodon), encrypted at rest.

    `secrets` holds a Fernet token of the JSON key/value pairs; see listening.credentials.
    A credential whose platform refused it is `failed`: nothing polls with it until it
    is replaced.
    """

    class State(models.TextChoices):
        UNTESTED = "untested", "Not tested yet"
        OK = "ok", "Working"
        FAILED = "failed", "Authentication failed"

    platform = models.CharField(max_length=20, choices=Platform.choices)
    # A Mastodon instance; blank: the platform's configured base URL.
    base_url = models.CharField("instance", max_length=300, blank=True)
    secrets = models.TextField(editable=False)
    state = models.CharField(max_length=20, choices=State.choices, default=State.UNTESTED)
    last_error = models.TextField(blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["platform", "base_url"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "base_url"], name="platform_credential_unique"),
        ]

    def __str__(self):
        where = f" at {self.base_url}" if self.base_url else ""
        return f"{self.get_platform_display()} credential{where}"

    @property
    def failed(self) -> bool:
        return self.state == self.State.FAILED


class SpendCap(models.Model):
    """The most an admin lets a paid platform cost in a calendar month (UTC)."""

    platform = models.CharField(max_length=20, choices=Platform.choices, unique=True)
    monthly_cap = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.get_platform_display()}: {self.monthly_cap if self.monthly_cap is not None else 'no cap'}"


class PlatformUsage(models.Model):
    """Posts read from a platform in one calendar month (UTC), per saved search or channel.

    `reads` counts every item read; `charged_reads` those the platform bills (on X, a
    post read twice in one UTC day is billed once). Rows outlive a deleted search or
    channel (the reads were still paid for).
    """

    platform = models.CharField(max_length=20, choices=Platform.choices)
    month = models.DateField(help_text="The first day of the month.")
    saved_search = models.ForeignKey(SavedSearch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reads = models.PositiveBigIntegerField(default=0)
    charged_reads = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "month", "saved_search"],
                condition=models.Q(saved_search__isnull=False),
                name="platform_usage_unique_search",
            ),
            models.UniqueConstraint(
                fields=["platform", "month", "channel"],
                condition=models.Q(channel__isnull=False),
                name="platform_usage_unique_channel",
            ),
            models.CheckConstraint(
                condition=models.Q(saved_search__isnull=True) | models.Q(channel__isnull=True),
                name="platform_usage_one_target",
            ),
        ]
        indexes = [models.Index(fields=["month", "platform"], name="platform_usage_month_idx")]


class HarvestRun(models.Model):
    """One run of a search harvest (saved_search + platform) or of a channel."""

    saved_search = models.ForeignKey(SavedSearch, null=True, blank=True, on_delete=models.CASCADE, related_name="runs")
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.CASCADE, related_name="runs")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)
    fetched = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    notes = models.JSONField(default=list, blank=True)
    rate_limit_waits = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, default="running")

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["saved_search", "platform", "-started_at"]),
            models.Index(fields=["channel", "-started_at"], name="harvest_run_channel_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(saved_search__isnull=False, channel__isnull=True)
                | models.Q(saved_search__isnull=True, channel__isnull=False),
                name="harvest_run_one_target",
            ),
        ]

    def __str__(self):
        what = self.saved_search.name if self.saved_search_id else str(self.channel)
        return f"{what} on {self.platform} at {self.started_at:%Y-%m-%d %H:%M}"


# The columns `Mention.prefilter_text` is computed from.
PREFILTER_SOURCE_FIELDS = (
    "platform", "text", "title", "url", "author_handle", "lang", "links", "mentions", "in_reply_to_handle", "kind",
)


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
    # What "Try it" narrows candidates on in SQL (`query.prefilter.stored_haystack`): the
    # case-folded, accent-stripped text, title, links, mentions and attributes. NULL means
    # not computed (rows written in bulk, or edited since), and such a row is always a
    # candidate. A trigger in migration 0006 sets it to NULL when a column it is made from
    # changes without it; a trigram index (pg_trgm, where the server has it) serves LIKE.
    prefilter_text = models.TextField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-posted_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["platform", "external_id"], name="mention_platform_external_id_unique")]
        indexes = [models.Index(fields=["-first_seen_at"], name="mention_first_seen_idx")]

    def __str__(self):
        return f"{self.platform}:{self.external_id} by @{self.author_handle}"

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is None or set(update_fields) & set(PREFILTER_SOURCE_FIELDS):
            self.prefilter_text = self.prefilter_text_computed()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "prefilter_text"}
        super().save(*args, **kwargs)

    def as_post(self) -> Post:
        """The stored mention as the query language reads it."""
        return Post(
            platform=self.platform,
            external_id=self.external_id,
            text=self.text,
            title=self.title,
            url=self.url,
            author_handle=self.author_handle,
            author_name=self.author_name,
            created_at=self.posted_at,
            lang=self.lang,
            links=tuple(self.links),
            mentions=tuple(self.mentions),
            in_reply_to_handle=self.in_reply_to_handle,
            kind=self.kind,
        )

    def prefilter_text_computed(self) -> str:
        return stored_haystack(self.as_post()).replace("\x00", "\ufffd")

    @property
    def audit_repr(self) -> str:
        # The audit log is never edited, so it names the row, not the author (see governance.subject_access).
        return f"mention {self.pk} ({self.platform})"

    @property
    def safe_url(self) -> str:
        """The post's own URL, only if it is http(s); anything else is not linked."""
        return self.url if self.url.lower().startswith(("http://", "https://")) else ""


class MentionHit(models.Model):
    # No single-column indexes: the unique (mention, saved search) and the (saved search,
    # matched) index lead with each, and ingest writes every index on every hit.
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="hits", db_index=False)
    saved_search = models.ForeignKey(SavedSearch, on_delete=models.CASCADE, related_name="hits", db_index=False)
    spans = models.JSONField(default=dict, blank=True)
    matched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mention", "saved_search"], name="mention_hit_unique")]
        indexes = [models.Index(fields=["saved_search", "-matched_at"])]
