"""Reads of the audit log: verifying its chain, and the filtered, keyset-paged list the viewer shows."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from governance.models import GENESIS_HASH, AuditEvent

CHUNK = 2000


@dataclass(frozen=True)
class ChainReport:
    """What verifying the chain found: every event intact, or the first break."""

    count: int  # events checked, up to and including the break
    first_id: int | None = None
    last_id: int | None = None
    head_hash: str = ""
    break_id: int | None = None
    break_kind: str = ""  # "changed", "missing" or "link"
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.break_id is None

    def summary(self) -> str:
        if self.intact:
            return f"intact: {self.count} events"
        return f"broken at event {self.break_id}: {self.problem}"


def audit_log_verify() -> ChainReport:
    """Walk the chain from the oldest remaining event, in id order, and report the first break.

    Retention deletes the oldest events (`audit_log_purge`), so the chain starts
    wherever the last purge left it: the oldest remaining event must hold the
    previous hash that purge recorded (or the start of the log, if none ran). Every
    later event must (1) hash to its stored hash, so no field was changed, and (2)
    link to the hash of the event just before it, so none was removed or moved.
    Rewriting the whole chain from some point onwards, or removing the newest events,
    is not visible from inside the table: compare `head_hash` with a copy kept elsewhere.
    """
    count, first_id, previous = 0, None, None
    anchor = _expected_first_link()
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=CHUNK):
        count += 1
        if first_id is None:
            first_id = event.id
            if event.previous_hash != anchor:
                return ChainReport(
                    count=count, first_id=first_id, break_id=event.id, break_kind="missing",
                    problem="the events before it were deleted, and not by a recorded retention purge.",
                )
        if event.computed_hash() != event.hash:
            return ChainReport(
                count=count, first_id=first_id, break_id=event.id, break_kind="changed",
                problem="its stored fields do not give its stored hash: the row was changed after it was written.",
            )
        if previous is not None and event.previous_hash != previous.hash:
            kind, problem = _link_problem(event, previous)
            return ChainReport(count=count, first_id=first_id, break_id=event.id, break_kind=kind, problem=problem)
        previous = event
    return ChainReport(
        count=count, first_id=first_id, last_id=previous.id if previous else None,
        head_hash=previous.hash if previous else "",
    )


def _expected_first_link() -> str:
    """The previous hash the oldest event must hold: the start of the log, or where the last purge left it."""
    from governance.services import PURGE_ACTION

    purge = AuditEvent.objects.filter(action=PURGE_ACTION).order_by("-id").values_list("details", flat=True).first()
    return purge.get("oldest_previous_hash", GENESIS_HASH) if purge else GENESIS_HASH


def _link_problem(event: AuditEvent, previous: AuditEvent) -> tuple[str, str]:
    linked = AuditEvent.objects.filter(hash=event.previous_hash).exclude(pk=event.pk).values_list("id", flat=True).first()
    if linked is not None:
        return "link", f"it links to event {linked}, not to event {previous.id} just before it: the chain was reordered."
    if event.previous_hash == GENESIS_HASH:
        return "link", f"it claims to be the first event, but event {previous.id} comes before it."
    return "missing", (
        f"the event it links to is missing: one or more events between event {previous.id} and it were deleted."
    )


# The viewer's filters: each bounded, so a visitor cannot make a costly query.
FILTER_MAX_LENGTH = 150


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    since: date | None = None
    until: date | None = None

    def as_query(self) -> dict[str, str]:
        values = {
            "actor": self.actor, "action": self.action, "object_type": self.object_type, "object_id": self.object_id,
            "since": self.since.isoformat() if self.since else "", "until": self.until.isoformat() if self.until else "",
        }
        return {k: v for k, v in values.items() if v}


class FilterError(ValueError):
    pass


def audit_filters_from(params) -> AuditFilters:
    """The filters from a query string; FilterError names the first bad one."""
    values = {}
    for name in ("actor", "action", "object_type", "object_id"):
        value = params.get(name, "").strip()
        if len(value) > FILTER_MAX_LENGTH:
            raise FilterError(f"The {name.replace('_', ' ')} filter is too long (at most {FILTER_MAX_LENGTH} characters).")
        values[name] = value
    for name in ("since", "until"):
        value = params.get(name, "").strip()
        try:
            values[name] = date.fromisoformat(value) if value else None
        except ValueError:
            raise FilterError(f"Give the {'from' if name == 'since' else 'to'} date as YYYY-MM-DD.") from None
        if values[name] and not 1900 <= values[name].year <= 9000:
            raise FilterError(f"The {'from' if name == 'since' else 'to'} date is out of range.")
    if values["since"] and values["until"] and values["since"] > values["until"]:
        raise FilterError("The from date is after the to date.")
    return AuditFilters(**values)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_events(filters: AuditFilters) -> QuerySet[AuditEvent]:
    """Events matching the filters, newest first (by id, which follows the chain)."""
    events = AuditEvent.objects.order_by("-id")
    if filters.actor:
        events = events.filter(actor_label__iexact=filters.actor)
    if filters.action:
        # "case." lists every case action; "case.close" just that one.
        events = events.filter(action__startswith=filters.action) if filters.action.endswith(".") else events.filter(action=filters.action)
    if filters.object_type:
        events = events.filter(object_type=filters.object_type.lower())
    if filters.object_id:
        events = events.filter(object_id=filters.object_id)
    if filters.since:
        events = events.filter(at__gte=_day_start(filters.since))
    if filters.until:
        events = events.filter(at__lt=_day_start(filters.until + timedelta(days=1)))
    return events
