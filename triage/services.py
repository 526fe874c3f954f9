from django.db import transaction
from django.utils import timezone

from governance.services import audit_event_record
from triage.models import Decision, InboxItem, InformationRequestType, Outcome


class DecisionRejected(ValueError):
    """The decision cannot be recorded as asked; the message says why."""


def inbox_item_decide(
    *,
    item: InboxItem,
    outcome: str,
    actor,
    request_type: str = "",
    note: str = "",
    ip: str | None = None,
) -> Decision:
    """Record a triage outcome, mark the item done, and audit it, in one transaction."""
    if outcome not in Outcome.values:
        raise DecisionRejected(f"{outcome!r} is not a triage outcome.")
    if request_type and request_type not in InformationRequestType.values:
        raise DecisionRejected(f"{request_type!r} is not a type of information request.")
    if request_type and outcome != Outcome.INFORMATION_REQUEST:
        raise DecisionRejected("Only an information request has a request type.")
    with transaction.atomic():
        locked = InboxItem.objects.select_for_update().get(pk=item.pk)
        now = timezone.now()
        decision = Decision.objects.create(
            item=locked, outcome=outcome, request_type=request_type, note=note.strip(), decided_by=actor
        )
        InboxItem.objects.filter(pk=locked.pk).update(
            status=InboxItem.Status.DONE, decided_at=now, claimed_by=None, claimed_at=None
        )
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
