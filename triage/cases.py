"""Case services: opening a case from a decision, and everything done to it afterwards.

Each service is one transaction with its AuditEvent and CaseEvent inside it. Bad
input raises CaseActionRejected with a message for the officer and changes nothing.
"""

from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Team
from governance.services import audit_event_record
from triage import deadlines
from triage.models import CASE_OUTCOMES, Case, CaseEvent, CaseKind, ClockPause, Decision, InboxItem
from triage.references import case_reference_next

NOTE_MAX_LENGTH = 5000


class CaseActionRejected(ValueError):
    """The action cannot be done as asked; the message says why."""


def _record(case: Case, *, action: str, actor, note: str = "", ip: str | None = None, **details) -> None:
    CaseEvent.objects.create(case=case, action=action, actor=actor, note=note, details=details)
    # The note stays on the case's history; the audit log, which is never edited, holds only its length,
    # so erasing a person (governance.subject_access) never needs to change it.
    audit_event_record(action=f"case.{action}", actor=actor, obj=case, ip=ip, details={"note_length": len(note), **details})


def _clean_note(note: str, *, required: bool = False, what: str = "a note") -> str:
    note = (note or "").strip()
    if required and not note:
        raise CaseActionRejected(f"Write {what}.")
    if len(note) > NOTE_MAX_LENGTH:
        raise CaseActionRejected(f"Keep it under {NOTE_MAX_LENGTH} characters.")
    return note


def case_received_on(item: InboxItem) -> date:
    """The UK day the request was made: when it was posted, or first seen if the platform gave no time."""
    mention = item.mention
    return deadlines.received_date(mention.posted_at or mention.first_seen_at)


def _due_from(case: Case, start: date) -> date | None:
    if case.kind != CaseKind.INFORMATION_REQUEST or not case.request_type:
        return None
    # An FOI public-interest extension is a date the officer chose; a fresh clock drops it.
    extended = case.extended and case.request_type != deadlines.FOI
    return deadlines.due_date(case.request_type, start, extended=extended, nation=case.nation)


def case_open_for_decision(*, item: InboxItem, decision: Decision, actor, ip: str | None = None) -> Case | None:
    """Open, retype or close the item's case to match a decision. Call inside the decision's transaction."""
    case = Case.objects.select_for_update().filter(item=item).first()
    if decision.outcome not in CASE_OUTCOMES:
        if case is not None and case.status != Case.Status.CLOSED:
            case.status, case.resolution, case.closed_at = Case.Status.CLOSED, Case.Resolution.REDECIDED, timezone.now()
            case.due_date = None
            case.save(update_fields=["status", "resolution", "closed_at", "due_date"])
            _record(case, action="closed", actor=actor, ip=ip, resolution=case.resolution, outcome=decision.outcome)
        return case
    if case is None:
        received = case_received_on(item)
        sequence, reference = case_reference_next()
        case = Case(
            reference=reference, sequence=sequence, item=item, team_id=item.team_id, owner=actor,
            kind=decision.outcome, request_type=decision.request_type,
            received_on=received, clock_started_on=received, nation=settings.EARSHOT_SAR_NATION,
        )
        case.due_date = _due_from(case, received)
        case.save()
        _record(case, action="opened", actor=actor, ip=ip, kind=case.kind, request_type=case.request_type,
                received_on=received.isoformat(), due_date=case.due_date.isoformat() if case.due_date else None)
        return case
    # A changed decision retypes the case and restarts its clock from the day of receipt.
    case.kind, case.request_type = decision.outcome, decision.request_type
    case.extended, case.extension_reason = False, ""
    case.status, case.resolution, case.closed_at = Case.Status.OPEN, "", None
    case.clock_started_on = case.received_on
    case.due_date = _due_from(case, case.received_on)
    case.save()
    ClockPause.objects.filter(case=case, resumed_on__isnull=True).update(resumed_on=timezone.localdate(), resumed_by=actor)
    _record(case, action="retyped", actor=actor, ip=ip, kind=case.kind, request_type=case.request_type,
            due_date=case.due_date.isoformat() if case.due_date else None)
    return case


def case_close_for_undo(*, item: InboxItem, actor, ip: str | None = None) -> Case | None:
    """Close the case an undone decision opened: it keeps its reference and history, and reopens if decided again."""
    case = Case.objects.select_for_update().filter(item=item).first()
    if case is not None and case.status != Case.Status.CLOSED:
        case.status, case.resolution, case.closed_at = Case.Status.CLOSED, Case.Resolution.REDECIDED, timezone.now()
        case.due_date = None
        case.save(update_fields=["status", "resolution", "closed_at", "due_date"])
        _record(case, action="closed", actor=actor, ip=ip, resolution=case.resolution, undone=True)
    return case


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def case_note_add(*, case: Case, actor, note: str, ip: str | None = None) -> CaseEvent:
    note = _clean_note(note, required=True)
    with transaction.atomic():
        locked = _locked(case)
        _record(locked, action="note", actor=actor, note=note, ip=ip)
    return locked.events.last()


def case_clock_pause(*, case: Case, actor, reason: str, paused_on: date | None = None, ip: str | None = None) -> ClockPause:
    """Stop the clock while the requester is asked to clarify (FOIA s.1(3), UK GDPR Art. 12(3))."""
    reason = _clean_note(reason, required=True, what="what you asked the requester")
    paused_on = paused_on or timezone.localdate()
    with transaction.atomic():
        locked = _locked(case)
        if not locked.has_clock:
            raise CaseActionRejected("Only an information request has a statutory clock to stop.")
        if locked.status != Case.Status.OPEN:
            raise CaseActionRejected(f"The case is {locked.get_status_display().lower()}; only an open case can be paused.")
        if paused_on > timezone.localdate() or paused_on < locked.received_on:
            raise CaseActionRejected("The pause must start between the day of receipt and today.")
        pause = ClockPause.objects.create(
            case=locked, paused_on=paused_on, paused_by=actor, reason=reason, due_date_before=locked.due_date
        )
        before = locked.due_date
        locked.status, locked.due_date = Case.Status.WAITING, None
        locked.save(update_fields=["status", "due_date"])
        _record(locked, action="paused", actor=actor, note=reason, ip=ip, paused_on=paused_on.isoformat(),
                due_date_before=before.isoformat() if before else None)
    return pause


def case_clock_resume(*, case: Case, actor, answered_on: date | None = None, ip: str | None = None) -> Case:
    """Restart the clock from the day the clarification arrived: the time counts afresh from it."""
    answered_on = answered_on or timezone.localdate()
    with transaction.atomic():
        locked = _locked(case)
        pause = locked.pauses.filter(resumed_on__isnull=True).first()
        if locked.status != Case.Status.WAITING or pause is None:
            raise CaseActionRejected("The clock is not stopped.")
        if answered_on < pause.paused_on or answered_on > timezone.localdate():
            raise CaseActionRejected("The answer must have arrived between the pause and today.")
        locked.status, locked.clock_started_on = Case.Status.OPEN, answered_on
        if locked.request_type == deadlines.FOI:
            locked.extended = False
        locked.due_date = _due_from(locked, answered_on)
        locked.save(update_fields=["status", "clock_started_on", "due_date", "extended"])
        pause.resumed_on, pause.resumed_by, pause.due_date_after = answered_on, actor, locked.due_date
        pause.save(update_fields=["resumed_on", "resumed_by", "due_date_after"])
        _record(locked, action="resumed", actor=actor, ip=ip, answered_on=answered_on.isoformat(),
                due_date=locked.due_date.isoformat() if locked.due_date else None)
    return locked


def case_clock_extend(
    *, case: Case, actor, reason: str, new_due: date | None = None, ip: str | None = None
) -> Case:
    """Extend the time: FOI to a date the officer sets (public interest test), EIR to 40
    working days, subject access by two further months."""
    reason = _clean_note(reason, required=True, what="the reason for the extension")
    with transaction.atomic():
        locked = _locked(case)
        if not locked.has_clock or locked.status != Case.Status.OPEN or locked.due_date is None:
            raise CaseActionRejected("Only an open information request with a running clock can be extended.")
        if locked.request_type == deadlines.FOI:
            if new_due is None:
                raise CaseActionRejected("Give the new date for the public interest extension.")
            try:
                due = deadlines.foi_extension_checked(current_due=locked.due_date, new_due=new_due, reason=reason)
            except ValueError as problem:
                raise CaseActionRejected(str(problem)) from None
        else:
            if locked.extended:
                raise CaseActionRejected("This request has already been extended as far as the law allows.")
            due = deadlines.due_date(locked.request_type, locked.clock_started_on, extended=True, nation=locked.nation)
        before = locked.due_date
        locked.extended, locked.extension_reason, locked.due_date = True, reason, due
        locked.save(update_fields=["extended", "extension_reason", "due_date"])
        _record(locked, action="extended", actor=actor, note=reason, ip=ip,
                due_date_before=before.isoformat(), due_date=due.isoformat())
    return locked


def case_assign(*, case: Case, actor, owner=None, forwarded_to: Team | None = None, ip: str | None = None) -> Case:
    with transaction.atomic():
        locked = _locked(case)
        changes = {}
        if (owner.pk if owner else None) != locked.owner_id:
            changes["owner"] = owner.get_username() if owner else None
            locked.owner = owner
        if (forwarded_to.pk if forwarded_to else None) != locked.forwarded_to_id:
            if forwarded_to is not None and forwarded_to.pk == locked.team_id:
                raise CaseActionRejected("The case is already this team's own.")
            changes["forwarded_to"] = forwarded_to.name if forwarded_to else None
            locked.forwarded_to = forwarded_to
        if not changes:
            raise CaseActionRejected("Nothing changed.")
        locked.save(update_fields=["owner", "forwarded_to"])
        _record(locked, action="assigned", actor=actor, ip=ip, **changes)
    return locked


def case_close(*, case: Case, actor, resolution: str, note: str = "", ip: str | None = None) -> Case:
    note = _clean_note(note)
    if resolution not in Case.Resolution.values or resolution == Case.Resolution.REDECIDED:
        raise CaseActionRejected("Choose how the case ended.")
    with transaction.atomic():
        locked = _locked(case)
        if locked.status == Case.Status.CLOSED:
            raise CaseActionRejected("The case is already closed.")
        ClockPause.objects.filter(case=locked, resumed_on__isnull=True).update(resumed_on=timezone.localdate(), resumed_by=actor)
        locked.status, locked.resolution, locked.closed_at = Case.Status.CLOSED, resolution, timezone.now()
        locked.save(update_fields=["status", "resolution", "closed_at"])
        _record(locked, action="closed", actor=actor, note=note, ip=ip, resolution=resolution,
                on_time=bool(locked.due_date is None or timezone.localdate() <= locked.due_date))
    return locked


def case_reopen(*, case: Case, actor, note: str = "", ip: str | None = None) -> Case:
    note = _clean_note(note)
    with transaction.atomic():
        locked = _locked(case)
        if locked.status != Case.Status.CLOSED:
            raise CaseActionRejected("Only a closed case can be reopened.")
        locked.status, locked.resolution, locked.closed_at = Case.Status.OPEN, "", None
        if locked.due_date is None:
            locked.due_date = _due_from(locked, locked.clock_started_on)
        locked.save(update_fields=["status", "resolution", "closed_at", "due_date"])
        _record(locked, action="reopened", actor=actor, note=note, ip=ip)
    return locked
