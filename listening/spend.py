"""Spend: posts read per platform, saved search, channel and month, and the caps that stop harvesting.

Some platforms charge per post read (X: `EARSHOT_PRICE_PER_READ`, $0.005 a post,
and a post read twice in one UTC day is charged once) and cap reads per month
(`EARSHOT_MONTHLY_READ_LIMITS`, X: 3 million). Every page a harvest reads is counted
in `PlatformUsage`: all items read, and those the platform charges for. To charge a
post once per UTC day, the ids read that day are kept in a Redis set that expires
after two days (at X's monthly limit, about 100,000 ids a day: a few megabytes).

An admin sets a monthly cap per platform (`SpendCap`). When this month's estimated
spend reaches it, or the platform's own read limit is reached, harvesting on that
platform stops with "monthly budget reached"; it resumes on the first of the next
month (UTC), or as soon as the cap is raised. The check runs before every page, so a
run in flight overshoots by at most one page.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum

from listening.budgets import redis_client
from listening.models import Platform, PlatformUsage, SpendCap

READ_IDS_PREFIX = "earshot:reads:"
READ_IDS_TTL = timedelta(days=2)


def month_start(now: datetime) -> date:
    return now.astimezone(timezone.utc).date().replace(day=1)


def price_per_read(platform: str) -> Decimal | None:
    return settings.EARSHOT_PRICE_PER_READ.get(platform)


def is_metered(platform: str) -> bool:
    """Whether reads on this platform cost money or count against a monthly limit."""
    return platform in settings.EARSHOT_PRICE_PER_READ or platform in settings.EARSHOT_MONTHLY_READ_LIMITS


def _charged(platform: str, posts, skipped: int, now: datetime) -> int:
    ids = {post.external_id for post in posts if getattr(post, "external_id", None)}
    without_id = sum(1 for post in posts if not getattr(post, "external_id", None))
    added = 0
    if ids:
        key = f"{READ_IDS_PREFIX}{platform}:{now.astimezone(timezone.utc):%Y-%m-%d}"
        with redis_client().pipeline() as pipe:
            pipe.sadd(key, *ids)
            pipe.expire(key, int(READ_IDS_TTL.total_seconds()))
            added = pipe.execute()[0]
    # Items we could not read an id from were still delivered, and billed.
    return added + without_id + skipped


def reads_record(
    *, platform: str, posts, skipped: int = 0, saved_search_id: int | None = None, channel_id: int | None = None, now: datetime
) -> int:
    """Count a page's reads against this month; returns the reads charged."""
    read = len(posts) + skipped
    if read == 0:
        return 0
    charged = _charged(platform, posts, skipped, now) if is_metered(platform) else 0
    target = {"platform": platform, "month": month_start(now), "saved_search_id": saved_search_id, "channel_id": channel_id}
    increments = {"reads": F("reads") + read, "charged_reads": F("charged_reads") + charged}
    if not PlatformUsage.objects.filter(**target).update(**increments):
        try:
            with transaction.atomic():
                PlatformUsage.objects.create(**target, reads=read, charged_reads=charged)
        except IntegrityError:  # another run made this month's row first
            PlatformUsage.objects.filter(**target).update(**increments)
    return charged


@dataclass(frozen=True)
class SpendState:
    platform: str
    reads: int
    charged_reads: int
    price: Decimal | None
    cap: Decimal | None
    read_limit: int | None

    @property
    def label(self) -> str:
        return Platform(self.platform).label if self.platform in Platform.values else self.platform

    @property
    def spend(self) -> Decimal:
        return (self.price or Decimal(0)) * self.charged_reads

    @property
    def reached(self) -> str:
        """Why this platform stops for the month, or ""."""
        if self.cap is not None and self.price and self.spend >= self.cap:
            return f"monthly budget reached: ${self.spend:,.2f} of the ${self.cap:,.2f} cap"
        if self.cap is not None and self.cap <= 0:
            return "monthly budget reached: the cap is $0"
        if self.read_limit is not None and self.charged_reads >= self.read_limit:
            return f"monthly budget reached: {self.charged_reads:,} reads, {self.label}'s own limit of {self.read_limit:,} a month"
        return ""

    @property
    def cap_used_percent(self) -> int | None:
        if not self.cap:
            return None
        return min(999, int(self.spend * 100 / self.cap))


def month_totals(*, now: datetime) -> dict[str, tuple[int, int]]:
    """platform → (reads, charged reads) this month, in one query."""
    rows = (
        PlatformUsage.objects.filter(month=month_start(now))
        .values("platform")
        .annotate(reads=Sum("reads"), charged=Sum("charged_reads"))
    )
    return {row["platform"]: (row["reads"] or 0, row["charged"] or 0) for row in rows}


def spend_caps() -> dict[str, Decimal | None]:
    return dict(SpendCap.objects.values_list("platform", "monthly_cap"))


def spend_state(platform: str, *, totals: dict, caps: dict) -> SpendState | None:
    """This month's reads and spend on a metered platform; None for the others."""
    if not is_metered(platform):
        return None
    reads, charged = totals.get(platform, (0, 0))
    return SpendState(
        platform=platform,
        reads=reads,
        charged_reads=charged,
        price=price_per_read(platform),
        cap=caps.get(platform),
        read_limit=settings.EARSHOT_MONTHLY_READ_LIMITS.get(platform),
    )


def spend_block_reason(platform: str, *, now: datetime, pending_reads: int = 0) -> str:
    """"monthly budget reached: …" if `platform` must stop for the month, else "".

    `pending_reads` are reads of a page fetched and not yet recorded (a harvest reads one
    page ahead); they count as charged, the most they can cost.
    """
    if not is_metered(platform):
        return ""
    reads, charged = (
        PlatformUsage.objects.filter(month=month_start(now), platform=platform)
        .aggregate(reads=Sum("reads"), charged=Sum("charged_reads"))
        .values()
    )
    cap = SpendCap.objects.filter(platform=platform).values_list("monthly_cap", flat=True).first()
    totals = {platform: ((reads or 0) + pending_reads, (charged or 0) + pending_reads)}
    return spend_state(platform, totals=totals, caps={platform: cap}).reached


def spend_cap_set(*, platform: str, monthly_cap: Decimal | None, actor, ip: str | None = None) -> SpendCap:
    """Set (or clear, with None) a platform's monthly cap; audited."""
    from governance.services import audit_event_record

    with transaction.atomic():
        cap, _ = SpendCap.objects.select_for_update().get_or_create(platform=platform)
        before = cap.monthly_cap
        cap.monthly_cap = monthly_cap
        cap.save()
        audit_event_record(
            action="spend_cap.update",
            actor=actor,
            obj=cap,
            ip=ip,
            details={
                "platform": platform,
                "before": None if before is None else str(before),
                "after": None if monthly_cap is None else str(monthly_cap),
            },
        )
    return cap
