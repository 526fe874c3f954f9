from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance.services import audit_event_record
from triage.cases import case_open_for_decision
from triage.models import Decision, InboxItem, InformationRequestType, Outcome


class DecisionRejected(ValueError):
    """The decision cannot be recorded as asked; the message says why."""


def _quoted(value: str, limit: int = 40) -> str:
    """A posted value, cut short, to quote back in a refusal."""
    return f"“{value[:limit]}…”" if len(value) > limit else f"“{value}”"


def inbox_item_decide(
    *,
    item: InboxItem,
    outcome: str,
    actor,
    request_type: str = "",
    note: str = "",
    ip: str | None = None,
    redecide: bool = False,
) -> Decision:
    """Record a triage outcome, mark the item done, and audit it, in one transaction.

    An item already decided is refused unless `redecide` is set (the detail page's
    "change decision"); every decision stays in the item's history.
    """
    if outcome not in Outcome.values:
        raise DecisionRejected(f"{_quoted(outcome)} is not a triage outcome.")
    if request_type and request_type not in InformationRequestType.values:
        raise DecisionRejected(f"{_quoted(request_type)} is not a type of information request.")
    note_limit = settings.EARSHOT_DECISION_NOTE_MAX_LENGTH
    if len(note) > note_limit:
        raise DecisionRejected(
            f"The note is {len(note):,} characters long; a note can be at most {note_limit:,}. Nothing was recorded."
        )
    if "\x00" in note:
        raise DecisionRejected("The note holds a NUL character, which cannot be stored. Nothing was recorded.")
    if request_type and outcome != Outcome.INFORMATION_REQUEST:
        raise DecisionRejected("Only an information request has a request type.")
    if outcome == Outcome.INFORMATION_REQUEST and not request_type:
        raise DecisionRejected("Say what kind of information request this is: FOI, EIR or subject access.")
    with transaction.atomic():
        locked = InboxItem.objects.select_for_update().get(pk=item.pk)
        if locked.status == InboxItem.Status.DONE and not redecide:
            # Two officers on one item: the second learns of the first instead of overwriting it.
            earlier = (
                locked.decisions.filter(undone_at__isnull=True)
                .select_related("decided_by").order_by("-decided_at", "-id").first()
            )
            who = earlier.decided_by.get_username() if earlier and earlier.decided_by else "someone"
            label = earlier.get_outcome_display().lower() if earlier else "decided"
            raise DecisionRejected(f"Already decided by {who} as {label}. Reload to see it.")
        now = timezone.now()
        decision = Decision.objects.create(
            item=locked, outcome=outcome, request_type=request_type, note=note.strip(), decided_by=actor
        )
        InboxItem.objects.filter(pk=locked.pk).update(
            status=InboxItem.Status.DONE, decided_at=now, claimed_by=None, claimed_at=None
        )
        # Enquiries, complaints and information requests become casework at once.
        case_open_for_decision(item=locked, decision=decision, actor=actor, ip=ip)
        audit_event_record(
            action="triage.decide",
            actor=actor,
            obj=locked,
            ip=ip,
            details={
                "outcome": outcome,
                "request_type": request_type,
                "mention_id": locked.mention_id,
                "previous_status": locked.status,
            },
        )
    item.status, item.decided_at = InboxItem.Status.DONE, now
    return decision
