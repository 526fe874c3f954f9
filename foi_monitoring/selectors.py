"""Reads shared by the FOI monitoring pages: evidence, trends and when the data goes."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone
from django.utils.dateformat import format as date_format

from foi_monitoring.models import AuthoritySignal, Flag, PublicAuthority, ReviewDecision, ReviewMeeting

EVIDENCE_LIMIT = 200
TREND_WEEKS = 12


def authority_search(query: str) -> QuerySet[PublicAuthority]:
    authorities = PublicAuthority.objects.all()
    query = " ".join(query.split())[:200]
    if query:
        authorities = authorities.filter(
            Q(name__icontains=query) | Q(short_name__icontains=query) | Q(code__iexact=query)
            | Q(aliases__icontains=query) | Q(web_domains__icontains=query)
        )
    return authorities.annotate(open_flags=Count("flags", filter=Q(flags__closed_at__isnull=True))).order_by("name", "id")


def open_flags() -> QuerySet[Flag]:
    return (
        Flag.objects.filter(closed_at__isnull=True).select_related("authority")
        .annotate(evidence=Count("authority__signals"))
        .order_by("-authors_count", "-opened_at")
    )


def evidence(*, authority: PublicAuthority) -> QuerySet[AuthoritySignal]:
    return authority.signals.select_related("mention").order_by("-occurred_at", "-id")


def decision_history(*, authority: PublicAuthority) -> QuerySet[ReviewDecision]:
    return (
        authority.review_decisions.exclude(outcome="").select_related("meeting", "decided_by")
        .order_by("-meeting__starts_at", "-id")
    )


def meeting_agenda(*, meeting: ReviewMeeting) -> QuerySet[ReviewDecision]:
    return meeting.agenda.select_related("authority", "flag", "decided_by").annotate(
        evidence=Count("authority__signals")
    ).order_by("authority__name")


@dataclass(frozen=True)
class WeekCount:
    starts: datetime
    signals: int
    authors: int


def weekly_trend(*, authority: PublicAuthority, now: datetime | None = None, weeks: int = TREND_WEEKS) -> list[WeekCount]:
    """Signals and distinct authors per week, oldest first, for the chart and its table."""
    now = now or timezone.now()
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(weeks=weeks - 1)
    start -= timedelta(days=start.weekday())
    buckets = [start + timedelta(weeks=i) for i in range(weeks)]
    # Counted in PostgreSQL, one row per week, however many signals there are. The last
    # bucket also takes anything later (a clock a little ahead), as the chart always has.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT LEAST(%(last)s, floor(extract(epoch FROM occurred_at - %(start)s) / 604800)::int) AS week,"
            " count(*), count(DISTINCT author_key)"
            " FROM foi_monitoring_authoritysignal WHERE authority_id = %(authority)s AND occurred_at >= %(start)s"
            " GROUP BY 1",
            {"last": weeks - 1, "start": start, "authority": authority.pk},
        )
        counted = {week: (signals, authors) for week, signals, authors in cursor.fetchall()}
    return [WeekCount(bucket, *counted.get(index, (0, 0))) for index, bucket in enumerate(buckets)]


def trend_chart(trend: list[WeekCount], *, width: int = 600, height: int = 180) -> dict:
    """Geometry for the server-drawn SVG bar chart (the template escapes every label)."""
    top = max([w.signals for w in trend] + [1])
    pad_left, pad_bottom, pad_top = 34, 24, 10
    bar_space = (width - pad_left) / max(len(trend), 1)
    plot = height - pad_bottom - pad_top
    bars = []
    for i, week in enumerate(trend):
        bar_height = plot * week.signals / top
        bars.append({
            "x": round(pad_left + i * bar_space + bar_space * 0.15, 1), "width": round(bar_space * 0.7, 1),
            "y": round(pad_top + plot - bar_height, 1), "height": round(bar_height, 1),
            "label_x": round(pad_left + i * bar_space + bar_space / 2, 1), "week": week,
        })
    return {"width": width, "height": height, "bars": bars, "top": top, "axis_y": height - pad_bottom,
            "pad_left": pad_left, "pad_top": pad_top, "label_y": height - 8}


def _day(value: datetime) -> str:
    return date_format(timezone.localtime(value), "j F")


def deletion_notice(*, signals: QuerySet[AuthoritySignal], now: datetime | None = None) -> str:
    """When these posts will be deleted, in words: the five-day rule, or the ceiling."""
    now = now or timezone.now()
    days = settings.EARSHOT_FOI_PURGE_DAYS_AFTER_MEETING
    ceiling = settings.EARSHOT_FOI_PURGE_CEILING_DAYS
    posts = signals.aggregate(n=Count("mention", distinct=True), oldest=Min("collected_at"))
    if not posts["n"]:
        return (f"Monitoring posts are deleted within {days} days after the review meeting that follows their "
                f"collection, and never kept longer than {ceiling} days.")
    meeting = ReviewMeeting.objects.filter(purged_at__isnull=True).order_by("starts_at", "id").first()
    ceiling_date = _day(posts["oldest"] + timedelta(days=ceiling))
    if meeting is None:
        word = "post" if posts["n"] == 1 else "posts"
        return (f"These {posts['n']} {word} will be deleted {days} days after the next review meeting, and by "
                f"{ceiling_date} at the latest ({ceiling} days after collection).")
    before = signals.filter(collected_at__lt=meeting.starts_at).aggregate(n=Count("mention", distinct=True))["n"]
    after = posts["n"] - before
    parts = []
    if before:
        word = "post" if before == 1 else "posts"
        parts.append(f"These {before} {word} will be deleted by {_day(meeting.purge_due_at)}, {days} days after the "
                     f"meeting on {_day(meeting.starts_at)}.")
    if after:
        word = "post" if after == 1 else "posts"
        lead = "The other" if before else "These"
        parts.append(f"{lead} {after} {word}, collected since the meeting started, will be deleted {days} days after the "
                     f"meeting that follows, and within {ceiling} days of collection at the latest.")
    return " ".join(parts)


def meetings() -> QuerySet[ReviewMeeting]:
    return ReviewMeeting.objects.annotate(
        agenda_count=Count("agenda"), decided_count=Count("agenda", filter=~Q(agenda__outcome=""))
    ).order_by("-starts_at", "-id")


def evidence_page(signals: QuerySet[AuthoritySignal]) -> list[AuthoritySignal]:
    return list(signals[:EVIDENCE_LIMIT])


