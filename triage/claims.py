"""Who holds an inbox item: the officer triaging it now (a claim) and the one it is assigned to.

A claim is presence, not a record: opening an item claims it for
EARSHOT_CLAIM_SECONDS, the open page renews it every 30 seconds, and deciding or
leaving releases it. Claiming and renewing are conditional UPDATEs that never take a
fresh claim from someone else, and are not audited (they happen every half minute
while an item is open). Taking over a colleague's claim is audited, and so is every
change of assignee.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import AccessGrant, Team
from governance.services import audit_event_record
from triage.models import InboxItem


class HoldRejected(ValueError):
    """The claim or assignment cannot be made as asked; the message says why."""


def _claim_cutoff():
    return timezone.now() - timedelta(seconds=settings.EARSHOT_CLAIM_SECONDS)


def team_members(team: Team):
    """Who an item of the team can be assigned to: active people with a grant in force on that team."""
    holders = AccessGrant.objects.active().filter(team=team).values("user_id")
    return get_user_model().objects.filter(is_active=True, pk__in=holders).order_by("username")


def inbox_item_claim(*, item: InboxItem, actor) -> bool:
    """Claim the item, or renew the actor's own claim. False when someone else holds a fresh claim or it is decided."""
    claimed = (
        InboxItem.objects.filter(pk=item.pk)
        .exclude(status=InboxItem.Status.DONE)
        .filter(Q(claimed_by__isnull=True) | Q(claimed_by=actor) | Q(claimed_at__lte=_claim_cutoff()))
        .update(claimed_by=actor, claimed_at=timezone.now())
    )
    return claimed == 1


def inbox_item_release(*, item: InboxItem, actor) -> bool:
    """Let go of the actor's own claim (leaving the page); someone else's claim is left alone."""
    return InboxItem.objects.filter(pk=item.pk, claimed_by=actor).update(claimed_by=None, claimed_at=None) == 1


def inbox_item_take_over(*, item: InboxItem, actor, ip: str | None = None) -> InboxItem:
    """Take the claim from whoever holds it, and audit whose it was."""
    with transaction.atomic():
        locked = InboxItem.objects.select_for_update(of=("self",)).select_related("claimed_by").get(pk=item.pk)
        if locked.status == InboxItem.Status.DONE:
            raise HoldRejected("The item is already decided; there is nothing to take over.")
        holder = locked.claim_holder
        if holder is not None and holder.pk == actor.pk:
            raise HoldRejected("You are already triaging this item.")
        InboxItem.objects.filter(pk=locked.pk).update(claimed_by=actor, claimed_at=timezone.now())
        audit_event_record(
            action="triage.take_over",
            actor=actor,
            obj=locked,
            ip=ip,
            details={"from": holder.get_username() if holder else None, "mention_id": locked.mention_id},
        )
    return locked


def _status_for(assignee) -> str:
    # An undecided item is in progress while someone holds it, and new again when nobody does.
    return InboxItem.Status.IN_PROGRESS if assignee is not None else InboxItem.Status.NEW


def assign_locked(*, locked: InboxItem, actor, assignee, ip: str | None = None) -> None:
    """Assign an item already locked in the caller's transaction. Raises HoldRejected with the reason."""
    if locked.status == InboxItem.Status.DONE:
        raise HoldRejected("Already decided; a decided item is not assigned.")
    if (assignee.pk if assignee else None) == locked.assignee_id:
        who = assignee.get_username() if assignee else "nobody"
        raise HoldRejected(f"Already assigned to {who}.")
    previous = locked.assignee.get_username() if locked.assignee_id else None
    status = _status_for(assignee)
    InboxItem.objects.filter(pk=locked.pk).update(assignee=assignee, status=status)
    audit_event_record(
        action="triage.assign",
        actor=actor,
        obj=locked,
        ip=ip,
        details={
            "assignee": assignee.get_username() if assignee else None,
            "previous": previous,
            "mention_id": locked.mention_id,
        },
    )
    locked.assignee, locked.status = assignee, status


def inbox_item_assign(*, item: InboxItem, actor, assignee, ip: str | None = None) -> InboxItem:
    """Assign the item to `assignee` (a team member) or to nobody, in one audited transaction."""
    if assignee is not None and not team_members(item.team).filter(pk=assignee.pk).exists():
        raise HoldRejected("Assign to someone with access to this team's inbox.")
    with transaction.atomic():
        locked = InboxItem.objects.select_for_update(of=("self",)).select_related("assignee").get(pk=item.pk)
        assign_locked(locked=locked, actor=actor, assignee=assignee, ip=ip)
    return locked
