"""Writes of FOI monitoring: the scan of monitoring hits, flags, review meetings and decisions.

How mentions reach the monitoring: ingest (listening/ingest.py) stores hits for every
saved search and knows nothing of FOI. A beat task (`scan_monitoring_hits`, every
minute) reads the MentionHits of saved searches whose purpose is FOI monitoring
(including watch-list searches of FOI campaigners) past a stored high-water mark on
their id, in batches: each mention is linked to authorities and scanned for signals,
and each (authority, mention) with a signal becomes an AuthoritySignal. The mark
moves in the same transaction as the signals, so a crash repeats a batch at worst
(signals are unique per authority and mention). Hits younger than
EARSHOT_FOI_SCAN_LAG_SECONDS are left for the next run: a hit id is taken before its
ingest transaction commits, so a lower id can appear after a higher one was read.
This keeps ingest untouched and its cost unchanged.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from foi_monitoring.detection import detect_signals
from foi_monitoring.linking import current_linker
from foi_monitoring.models import (
    AuthoritySignal,
    Flag,
    MonitoringSettings,
    PublicAuthority,
    ReviewDecision,
    ReviewMeeting,
    ReviewOutcome,
    ScanMark,
)
from governance.services import audit_event_record
from listening.models import MentionHit, Purpose

SCAN_BATCH = 1000


class MonitoringRejected(ValueError):
    """The write cannot be made as asked; the message says why."""


def author_key(mention) -> str:
    handle = (mention.author_handle or "").strip().lower()
    return f"{mention.platform}:{handle}"[:230] if handle else f"{mention.platform}:anonymous-{mention.pk}"


def monitoring_hits_scan(*, now: datetime | None = None, lag_seconds: int | None = None, max_batches: int = 100) -> int:
    """Link and scan new monitoring hits; returns how many signals were made. Then re-evaluate flags."""
    now = now or timezone.now()
    lag = settings.EARSHOT_FOI_SCAN_LAG_SECONDS if lag_seconds is None else lag_seconds
    ScanMark.objects.get_or_create(pk=1)
    made, touched = 0, set()
    for _ in range(max_batches):
        with transaction.atomic():
            # One scanner at a time; a second one finds the mark locked and leaves.
            mark = ScanMark.objects.select_for_update(skip_locked=True).filter(pk=1).first()
            if mark is None:
                break
            hits = list(
                MentionHit.objects.filter(
                    id__gt=mark.last_hit_id, saved_search__purpose=Purpose.FOI_MONITORING,
                    matched_at__lte=now - timedelta(seconds=lag),
                ).select_related("mention").order_by("id")[:SCAN_BATCH]
            )
            if not hits:
                break
            linker = current_linker()
            signals, seen = [], set()
            for hit in hits:
                mention = hit.mention
                if mention.pk in seen:
                    continue
                seen.add(mention.pk)
                text = "\n".join(part for part in (mention.title, mention.text) if part)
                codes = detect_signals(text)
                if not codes:
                    continue
                for rank, authority in enumerate(linker.find(text, links=mention.links, mentions=mention.mentions), start=1):
                    signals.append(AuthoritySignal(
                        authority=authority, mention=mention, codes=sorted(codes), author_key=author_key(mention),
                        occurred_at=mention.posted_at or mention.first_seen_at, collected_at=hit.matched_at,
                        confidence=min(rank, 100),
                    ))
                    touched.add(authority.id)
            made += len(AuthoritySignal.objects.bulk_create(signals, ignore_conflicts=True))
            ScanMark.objects.filter(pk=1).update(last_hit_id=hits[-1].id, updated_at=now)
    if touched:
        flags_evaluate(authority_ids=touched, now=now)
    return made


def flags_evaluate(*, authority_ids, now: datetime | None = None) -> list[Flag]:
    """Open a flag for each authority whose signals cross a threshold; refresh open flags' counts.

    Thresholds (MonitoringSettings): at least N distinct authors within the window, or
    a spike: the window's signals at least `spike_factor` times the authority's own
    baseline (its signals over the `baseline_days` before the window, scaled to one
    window) with at least `spike_min_signals` signals from `spike_min_authors`
    authors. Both need several authors, so one noisy account never flags alone. Only
    signals after the authority's last reviewed flag count, so a decided flag does not
    reopen on the evidence it was decided on.
    """
    now = now or timezone.now()
    config = MonitoringSettings.current()
    window_start = now - timedelta(days=config.window_days)
    baseline_start = window_start - timedelta(days=config.baseline_days)
    last_closed = dict(
        Flag.objects.filter(authority_id__in=authority_ids, closed_at__isnull=False)
        .values("authority_id").annotate(last=Max("closed_at")).values_list("authority_id", "last")
    )
    rows = (
        AuthoritySignal.objects.filter(authority_id__in=authority_ids, occurred_at__gte=baseline_start, occurred_at__lte=now)
        .values("authority_id")
        .annotate(
            recent=Count("id", filter=Q(occurred_at__gte=window_start)),
            authors=Count("author_key", distinct=True, filter=Q(occurred_at__gte=window_start)),
            baseline=Count("id", filter=Q(occurred_at__lt=window_start)),
        )
    )
    by_authority = {row["authority_id"]: row for row in rows}
    opened = []
    for authority_id in authority_ids:
        row = by_authority.get(authority_id)
        since = last_closed.get(authority_id)
        if since is not None and since > window_start and row is not None:
            # Count afresh from the last review on.
            recent = AuthoritySignal.objects.filter(authority_id=authority_id, occurred_at__gt=since, occurred_at__lte=now)
            row = {**row, "recent": recent.count(), "authors": recent.values("author_key").distinct().count()}
        if row is None:
            continue
        baseline_per_window = row["baseline"] * config.window_days / config.baseline_days
        reason = None
        if row["authors"] >= config.authors_threshold:
            reason = Flag.Reason.AUTHORS
        elif (
            row["recent"] >= config.spike_min_signals
            and row["authors"] >= config.spike_min_authors
            and row["recent"] >= config.spike_factor * max(baseline_per_window, 1.0)
        ):
            reason = Flag.Reason.SPIKE
        with transaction.atomic():
            current = Flag.objects.select_for_update().filter(authority_id=authority_id, closed_at__isnull=True).first()
            if current is not None:
                Flag.objects.filter(pk=current.pk).update(
                    authors_count=max(current.authors_count, row["authors"]),
                    signals_count=max(current.signals_count, row["recent"]),
                )
                continue
            if reason is None:
                continue
            flag = Flag.objects.create(
                authority_id=authority_id, reason=reason, opened_at=now, authors_count=row["authors"],
                signals_count=row["recent"], window_days=config.window_days, baseline_per_window=baseline_per_window,
            )
            audit_event_record(
                action="foi.flag_open", obj=flag, actor_label="foi monitoring",
                details={"reason": reason, "authors": row["authors"], "signals": row["recent"]},
            )
            opened.append(flag)
    return opened


def review_meeting_create(*, starts_at: datetime, attendees: str, actor, ip: str | None = None) -> ReviewMeeting:
    """Schedule a meeting; its agenda is every authority with an open flag, with the flag's counts."""
    if starts_at is None:
        raise MonitoringRejected("Give the meeting's date and time.")
    attendees = "\n".join(line.strip()[:150] for line in attendees.splitlines() if line.strip())
    if len(attendees) > 5000:
        raise MonitoringRejected("The attendee list is too long.")
    with transaction.atomic():
        meeting = ReviewMeeting.objects.create(starts_at=starts_at, attendees=attendees, created_by=actor)
        flags = Flag.objects.filter(closed_at__isnull=True).select_related("authority")
        ReviewDecision.objects.bulk_create(
            ReviewDecision(meeting=meeting, authority=flag.authority, flag=flag, signals_count=flag.signals_count,
                           authors_count=flag.authors_count)
            for flag in flags
        )
        audit_event_record(
            action="foi.meeting_create", actor=actor, obj=meeting, ip=ip,
            details={"starts_at": starts_at.isoformat(), "agenda": len(flags)},
        )
    return meeting


def review_meeting_add_authority(*, meeting: ReviewMeeting, authority: PublicAuthority, actor, ip: str | None = None) -> ReviewDecision:
    """Put an authority without an open flag on the agenda (say, one to keep an eye on)."""
    if meeting.closed_at:
        raise MonitoringRejected("The meeting's minutes are closed.")
    with transaction.atomic():
        flag = Flag.objects.filter(authority=authority, closed_at__isnull=True).first()
        decision, created = ReviewDecision.objects.get_or_create(
            meeting=meeting, authority=authority,
            defaults={"flag": flag, "signals_count": flag.signals_count if flag else authority.signals.count(),
                      "authors_count": flag.authors_count if flag else authority.signals.values("author_key").distinct().count()},
        )
        if created:
            audit_event_record(action="foi.agenda_add", actor=actor, obj=meeting, ip=ip, details={"authority_id": authority.id})
    return decision


def review_decision_record(*, decision: ReviewDecision, outcome: str, notes: str, actor, ip: str | None = None,
                           now: datetime | None = None) -> ReviewDecision:
    """Record the meeting's decision about one authority; it closes the authority's open flag."""
    if outcome not in ReviewOutcome.values:
        raise MonitoringRejected("Choose one of the decisions.")
    notes = notes.strip()
    if len(notes) > 10_000:
        raise MonitoringRejected("Notes are limited to 10,000 characters.")
    now = now or timezone.now()
    with transaction.atomic():
        locked = ReviewDecision.objects.select_for_update().select_related("meeting").get(pk=decision.pk)
        if locked.meeting.closed_at:
            raise MonitoringRejected("The meeting's minutes are closed.")
        if locked.meeting.starts_at > now:
            raise MonitoringRejected("The meeting has not started yet.")
        previous = locked.outcome
        locked.outcome, locked.notes, locked.decided_by, locked.decided_at = outcome, notes, actor, now
        locked.save(update_fields=["outcome", "notes", "decided_by", "decided_at"])
        Flag.objects.filter(authority_id=locked.authority_id, closed_at__isnull=True, opened_at__lte=now).update(
            closed_at=now, closed_by_meeting=locked.meeting
        )
        audit_event_record(
            action="foi.review_decision", actor=actor, obj=locked, ip=ip,
            details={"meeting_id": locked.meeting_id, "authority_id": locked.authority_id, "outcome": outcome,
                     "previous_outcome": previous},
        )
    return locked


def review_meeting_close(*, meeting: ReviewMeeting, actor, ip: str | None = None, now: datetime | None = None) -> ReviewMeeting:
    """Finish the minutes. What was collected before the meeting may then be purged at once."""
    now = now or timezone.now()
    if meeting.starts_at > now:
        raise MonitoringRejected("A meeting cannot be closed before it starts.")
    with transaction.atomic():
        updated = ReviewMeeting.objects.filter(pk=meeting.pk, closed_at__isnull=True).update(closed_at=now)
        if not updated:
            raise MonitoringRejected("The meeting's minutes are already closed.")
        audit_event_record(action="foi.meeting_close", actor=actor, obj=meeting, ip=ip)
    meeting.closed_at = now
    return meeting
