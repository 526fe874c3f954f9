"""Taking back a decision just made: an audited reversal that keeps the decision in the history."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance.services import audit_event_record
from triage.cases import case_close_for_undo, case_open_for_decision
from triage.models import Decision, InboxItem


# The session key under which a decision made without JavaScript waits for its undo offer.
UNDO_SESSION_KEY = "earshot_undo"


class UndoRejected(ValueError):
    """The decision cannot be undone; the message says why."""


def decision_undo(*, decision_id: int, actor, ip: str | None = None) -> InboxItem:
    """Undo the actor's own latest decision on an item, within EARSHOT_UNDO_SECONDS.

    1. Lock the item; the decision must still be the one in force, and the actor's.
    2. Mark the decision undone (who, when); it stays in the item's history.
    3. Put the item back as it was: the decision before it in force again (and its
       case retyped to match), or, if there was none, undecided with any case it
       opened closed as "no longer a case".
    4. Audit the reversal.
    """
    with transaction.atomic():
        decision = Decision.objects.filter(pk=decision_id).select_related("item").first()
        if decision is None:
            raise UndoRejected("There is no such decision to undo.")
        item = InboxItem.objects.select_for_update().get(pk=decision.item_id)
        in_force = item.decisions.filter(undone_at__isnull=True).order_by("-decided_at", "-id").first()
        if decision.undone_at is not None:
            raise UndoRejected("That decision was already undone.")
        if in_force is None or in_force.pk != decision.pk:
            raise UndoRejected("The item was decided again since; change the decision on the item's page instead.")
        if decision.decided_by_id != actor.pk:
            raise UndoRejected("Only the officer who made a decision can undo it; change it on the item's page instead.")
        if decision.decided_at < timezone.now() - timedelta(seconds=settings.EARSHOT_UNDO_SECONDS):
            raise UndoRejected("It is too late to undo that decision; change it on the item's page instead.")
        now = timezone.now()
        Decision.objects.filter(pk=decision.pk).update(undone_at=now, undone_by=actor)
        earlier = (
            item.decisions.filter(undone_at__isnull=True).exclude(pk=decision.pk).order_by("-decided_at", "-id").first()
        )
        if earlier is not None:
            status, decided_at = InboxItem.Status.DONE, earlier.decided_at
            case_open_for_decision(item=item, decision=earlier, actor=actor, ip=ip)
        else:
            status = InboxItem.Status.IN_PROGRESS if item.assignee_id else InboxItem.Status.NEW
            decided_at = None
            case_close_for_undo(item=item, actor=actor, ip=ip)
        InboxItem.objects.filter(pk=item.pk).update(status=status, decided_at=decided_at)
        audit_event_record(
            action="triage.undo",
            actor=actor,
            obj=item,
            ip=ip,
            details={
                "decision_id": decision.pk,
                "outcome": decision.outcome,
                "request_type": decision.request_type,
                "restored_outcome": earlier.outcome if earlier else None,
                "status": status,
                "mention_id": item.mention_id,
            },
        )
        item.status, item.decided_at = status, decided_at
    return item


def undo_offer_remember(session, decision) -> None:
    """After a decision made without JavaScript, the next page offers to undo it (see desk_tags.pending_undo)."""
    if decision is not None:
        session[UNDO_SESSION_KEY] = decision.pk
