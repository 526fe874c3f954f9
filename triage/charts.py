"""Server-rendered, accessible SVG charts for a team's overview. No client library, no CDN.

Each chart has a <title> and <desc> the SVG is labelled by, a <title> on every point
giving its exact number, and the same numbers as a table beside it. The counts come
from one grouped query per chart, bucketed by UK hour or day.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, F
from django.db.models.functions import Coalesce, Least, Trunc
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from listening.models import MentionHit, SavedSearch
from triage.models import Decision, InboxItem, Outcome

LONDON = ZoneInfo("Europe/London")
RANGES = {"48h": ("hour", 48), "90d": ("day", 90)}
# Colour-blind-safe palette (Okabe–Ito); dash patterns tell series apart without colour.
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
DASHES = ["", "6 3", "2 3", "8 3 2 3", "1 2", "10 4", "4 4", "3 6"]
MAX_SERIES = 8
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 720, 240, 44, 12, 12, 36


@dataclass
class Series:
    name: str
    values: list[int]


@dataclass
class Chart:
    slug: str
    title: str
    description: str
    labels: list[str]
    series: list[Series] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(sum(s.values) for s in self.series)

    def rows(self) -> list[tuple[str, list[int]]]:
        return [(label, [s.values[i] for s in self.series]) for i, label in enumerate(self.labels)]

    def svg(self) -> SafeString:
        top = max([v for s in self.series for v in s.values] + [1])
        n = max(len(self.labels), 2)
        plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

        def x(i):
            return LEFT + plot_w * i / (n - 1)

        def y(v):
            return TOP + plot_h * (1 - v / top)

        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-labelledby="{self.slug}-title {self.slug}-desc" class="chart-svg" id="{self.slug}-svg">',
            f'<title id="{self.slug}-title">{escape(self.title)}</title>',
            f'<desc id="{self.slug}-desc">{escape(self.description)}</desc>',
        ]
        for tick in sorted({0, top // 2, top}):
            parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#dde1e8"/>')
            parts.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="11" fill="#5b6475">{tick}</text>')
        step = max(1, len(self.labels) // 8)
        for i in range(0, len(self.labels), step):
            parts.append(f'<text x="{x(i):.1f}" y="{HEIGHT - 12}" text-anchor="middle" font-size="11" fill="#5b6475">{escape(self.labels[i])}</text>')
        for k, series in enumerate(self.series):
            colour, dash = COLOURS[k % len(COLOURS)], DASHES[k % len(DASHES)]
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(series.values))
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<g class="series" data-series="{escape(series.name)}" data-total="{sum(series.values)}">')
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash_attr} points="{points}"/>')
            for i, v in enumerate(series.values):
                label = f"{series.name}, {self.labels[i]}: {v}"
                parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}" data-value="{v}"><title>{escape(label)}</title></circle>')
            parts.append("</g>")
        parts.append("</svg>")
        return mark_safe("".join(parts))


def _buckets(unit: str, count: int, now: datetime) -> list[datetime]:
    local = timezone.localtime(now, LONDON)
    if unit == "hour":
        last = local.replace(minute=0, second=0, microsecond=0)
        return [(last - timedelta(hours=count - 1 - i)).astimezone(LONDON) for i in range(count)]
    last = local.replace(hour=0, minute=0, second=0, microsecond=0)
    days = [last.date() - timedelta(days=count - 1 - i) for i in range(count)]
    return [timezone.make_aware(datetime.combine(d, datetime.min.time()), LONDON) for d in days]


def _label(bucket: datetime, unit: str) -> str:
    local = bucket.astimezone(LONDON)
    return f"{local:%a} {local:%H}:00" if unit == "hour" else f"{local.day} {local:%b}"


def _key(value: datetime, unit: str):
    local = value.astimezone(LONDON)
    return (local.date(), local.hour) if unit == "hour" else local.date()


def _fill(buckets, unit, counts: dict) -> list[int]:
    return [counts.get(_key(b, unit), 0) for b in buckets]


def team_charts(*, team, range_key: str = "48h", now: datetime | None = None) -> list[Chart]:
    unit, count = RANGES.get(range_key, RANGES["48h"])
    now = now or timezone.now()
    buckets = _buckets(unit, count, now)
    start = buckets[0]
    labels = [_label(b, unit) for b in buckets]
    span = "the last 48 hours, by hour" if unit == "hour" else "the last 90 days, by day"

    # 1. Mentions per saved search, at the time each was posted (or matched).
    searches = list(SavedSearch.objects.filter(team=team, archived_at__isnull=True).order_by("name")[:MAX_SERIES])
    rows = (
        MentionHit.objects.filter(saved_search__in=searches, matched_at__gte=start)
        .annotate(at=Least(Coalesce("mention__posted_at", "matched_at"), F("matched_at")))
        .filter(at__gte=start, at__lte=now)
        .annotate(bucket=Trunc("at", unit, tzinfo=LONDON))
        .values("saved_search_id", "bucket").annotate(n=Count("id"))
    )
    per_search: dict[int, dict] = {}
    for row in rows:
        per_search.setdefault(row["saved_search_id"], {})[_key(row["bucket"], unit)] = row["n"]
    by_search = Chart(
        f"searches-{range_key}", f"Mentions per saved search, {span}",
        f"Mentions found by each of {team.name}'s saved searches over {span} (UK time).", labels,
        [Series(s.name, _fill(buckets, unit, per_search.get(s.pk, {}))) for s in searches],
    )

    # 2. Items arriving in the team's inbox.
    arrived = {
        _key(row["bucket"], unit): row["n"]
        for row in InboxItem.objects.filter(team=team, created_at__gte=start, created_at__lte=now)
        .annotate(bucket=Trunc("created_at", unit, tzinfo=LONDON)).values("bucket").annotate(n=Count("id"))
    }
    by_team = Chart(
        f"team-{range_key}", f"{team.name} inbox volume, {span}",
        f"New items in {team.name}'s inbox over {span} (UK time).", labels,
        [Series("New items", _fill(buckets, unit, arrived))],
    )

    # 3. Decisions by outcome.
    per_outcome: dict[str, dict] = {}
    for row in (
        Decision.objects.filter(item__team=team, decided_at__gte=start, decided_at__lte=now, undone_at__isnull=True)
        .annotate(bucket=Trunc("decided_at", unit, tzinfo=LONDON)).values("outcome", "bucket").annotate(n=Count("id"))
    ):
        per_outcome.setdefault(row["outcome"], {})[_key(row["bucket"], unit)] = row["n"]
    outcomes = Chart(
        f"outcomes-{range_key}", f"Decisions by outcome, {span}",
        f"{team.name}'s triage decisions by outcome over {span} (UK time).", labels,
        [Series(label, _fill(buckets, unit, per_outcome.get(value, {}))) for value, label in Outcome.choices],
    )
    return [by_search, by_team, outcomes]
