"""Spike alerts: a saved search's last hour against its hourly baseline of the 12 hours before.

1. One aggregate query counts, per saved search, the hits in the last hour and in the
   12 hours before it, over MentionHit's (saved_search, matched_at) index. A mention
   counts at the time it was posted (or matched, if the platform gave no time, or if
   it was posted "in the future"), so a first harvest that backfills a week of old
   posts is not a spike.
2. A search alerts when the hour holds at least `min_count` mentions and more than
   `ratio` times the baseline. After an alert the search is quiet for `cooldown_minutes`,
   so one spike makes one alert.
3. Each alert names the hour's top authors and terms, shows on the team's pages and is
   emailed to the team as a circulation.

The whole run holds a transaction-level advisory lock, so two beats never alert twice.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from governance.services import audit_event_record
from listening.models import MentionHit, SavedSearch
from triage.mail import header_safe
from triage.models import Circulation, CirculationRecipient, SpikeAlert, SpikeThreshold

BASELINE_HOURS = 12
TOP_AUTHORS = 5
TOP_TERMS = 8
TERM_SAMPLE = 1000
_LOCK_KEY = 0x5EA7_5A1C  # any constant; names this job's advisory lock


@dataclass(frozen=True)
class Thresholds:
    ratio: float
    min_count: int
    cooldown_minutes: int
    enabled: bool = True


def thresholds_for(search: SavedSearch, stored: SpikeThreshold | None = None) -> Thresholds:
    if stored is None:
        return Thresholds(float(settings.EARSHOT_SPIKE_RATIO), settings.EARSHOT_SPIKE_MIN_COUNT, settings.EARSHOT_SPIKE_COOLDOWN_MINUTES)
    return Thresholds(float(stored.ratio), stored.min_count, stored.cooldown_minutes, stored.enabled)


def hourly_volumes(*, now: datetime, search_ids: list[int] | None = None) -> dict[int, tuple[int, int]]:
    """{saved search id: (hits in the last hour, hits in the 12 hours before)} in one query."""
    hour_ago = now - timedelta(hours=1)
    start = now - timedelta(hours=1 + BASELINE_HOURS)
    hits = MentionHit.objects.filter(matched_at__gte=start, matched_at__lte=now)
    if search_ids is not None:
        hits = hits.filter(saved_search_id__in=search_ids)
    rows = (
        hits.annotate(at=Least(Coalesce("mention__posted_at", "matched_at"), F("matched_at")))
        .filter(at__gte=start, at__lte=now)
        .values("saved_search_id")
        .annotate(
            last_hour=Count("id", filter=Q(at__gt=hour_ago)),
            before=Count("id", filter=Q(at__lte=hour_ago)),
        )
    )
    return {row["saved_search_id"]: (row["last_hour"], row["before"]) for row in rows}


def _top_authors(search_id: int, since: datetime, now: datetime) -> list[list]:
    rows = (
        MentionHit.objects.filter(saved_search_id=search_id, matched_at__gt=since - timedelta(hours=BASELINE_HOURS), matched_at__lte=now)
        .annotate(at=Least(Coalesce("mention__posted_at", "matched_at"), F("matched_at")))
        .filter(at__gt=since)
        .values("mention__author_handle")
        .annotate(n=Count("id"))
        .order_by("-n", "mention__author_handle")[:TOP_AUTHORS]
    )
    return [[row["mention__author_handle"], row["n"]] for row in rows]


def _top_terms(search_id: int, since: datetime, now: datetime) -> list[list]:
    mention_ids = list(
        MentionHit.objects.filter(saved_search_id=search_id, matched_at__gt=since - timedelta(hours=BASELINE_HOURS), matched_at__lte=now)
        .annotate(at=Least(Coalesce("mention__posted_at", "matched_at"), F("matched_at")))
        .filter(at__gt=since)
        .order_by("-id")
        .values_list("mention_id", flat=True)[:TERM_SAMPLE]
    )
    if not mention_ids:
        return []
    # ts_stat over the hour's posts; words that English full-text search drops (the, and, …) are left out.
    inner = "SELECT to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(text, '')) FROM listening_mention WHERE id IN (%s)" % ",".join(
        str(int(i)) for i in mention_ids
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT word, ndoc FROM ts_stat(%s) WHERE length(word) > 2 AND word ~ '^[[:alpha:]#@][[:alnum:]_#@-]*$' "
            "AND length(to_tsvector('english', word)) > 0 ORDER BY ndoc DESC, word LIMIT %s",
            [inner, TOP_TERMS],
        )
        return [[word, ndoc] for word, ndoc in cursor.fetchall()]


def spikes_detect(*, now: datetime | None = None) -> list[SpikeAlert]:
    """Record and email an alert for every saved search spiking now. Safe to run twice."""
    now = now or timezone.now()
    alerts = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK_KEY])
            if not cursor.fetchone()[0]:
                return []
        searches = {s.pk: s for s in SavedSearch.objects.filter(enabled=True, archived_at__isnull=True).select_related("team", "spike_threshold")}
        volumes = hourly_volumes(now=now, search_ids=list(searches))
        for search_id, (last_hour, before) in volumes.items():
            search = searches[search_id]
            limits = thresholds_for(search, getattr(search, "spike_threshold", None))
            baseline = before / BASELINE_HOURS
            if not limits.enabled or last_hour < limits.min_count or last_hour <= limits.ratio * baseline:
                continue
            cooldown_start = now - timedelta(minutes=limits.cooldown_minutes)
            if SpikeAlert.objects.filter(saved_search=search, created_at__gt=cooldown_start).exists():
                continue
            since = now - timedelta(hours=1)
            alert = SpikeAlert.objects.create(
                saved_search=search, team=search.team, window_end=now, count=last_hour, baseline=round(baseline, 2),
                ratio=limits.ratio, min_count=limits.min_count,
                top_authors=_top_authors(search_id, since, now), top_terms=_top_terms(search_id, since, now),
                created_at=now,
            )
            audit_event_record(action="spike.alert", obj=alert, actor_label="system",
                               details={"saved_search": search.name, "count": last_hour, "baseline": baseline})
            _email(alert)
            alerts.append(alert)
    return alerts


def _email(alert: SpikeAlert) -> None:
    team = alert.team
    if not team.email:
        return
    from triage.circulations import _queue

    circulation = Circulation.objects.create(
        kind=Circulation.Kind.SPIKE_ALERT, team=team, payload={"alert_id": alert.pk},
        subject=header_safe(f"Spike: {alert.count} mentions in an hour for “{alert.saved_search.name}” (usually {alert.baseline:g})"),
        saved_searches=alert.saved_search.name[:500],
    )
    recipient = CirculationRecipient.objects.create(circulation=circulation, team=team, email=team.email)
    transaction.on_commit(lambda: _queue([recipient.pk]))


def spike_alert_dismiss(*, alert: SpikeAlert, actor, ip: str | None = None) -> SpikeAlert:
    with transaction.atomic():
        updated = SpikeAlert.objects.filter(pk=alert.pk, dismissed_at__isnull=True).update(dismissed_at=timezone.now(), dismissed_by=actor)
        if updated:
            audit_event_record(action="spike.dismiss", actor=actor, obj=alert, ip=ip)
    alert.refresh_from_db()
    return alert


class ThresholdRejected(ValueError):
    pass


def spike_threshold_save(*, search: SavedSearch, actor, ratio: str, min_count: str, cooldown_minutes: str,
                         enabled: bool, ip: str | None = None) -> SpikeThreshold:
    try:
        ratio_value = round(float(ratio), 2)
        count_value, cooldown_value = int(min_count), int(cooldown_minutes)
    except (TypeError, ValueError):
        raise ThresholdRejected("Ratio, minimum count and cooldown must be numbers.") from None
    if not 1 <= ratio_value <= 100:
        raise ThresholdRejected("The ratio must be between 1 and 100.")
    if not 1 <= count_value <= 100_000:
        raise ThresholdRejected("The minimum count must be between 1 and 100,000.")
    if not 10 <= cooldown_value <= 10080:
        raise ThresholdRejected("The cooldown must be between 10 minutes and a week (10080).")
    with transaction.atomic():
        threshold, _ = SpikeThreshold.objects.update_or_create(
            saved_search=search,
            defaults={"ratio": ratio_value, "min_count": count_value, "cooldown_minutes": cooldown_value, "enabled": enabled},
        )
        audit_event_record(action="spike.thresholds", actor=actor, obj=search, ip=ip,
                           details={"ratio": ratio_value, "min_count": count_value, "cooldown_minutes": cooldown_value, "enabled": enabled})
    return threshold
