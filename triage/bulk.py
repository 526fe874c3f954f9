"""One action over many inbox items: decide, dismiss (decide "no action") or assign.

All of it happens in one transaction with one audit row per item: if anything fails
part-way, nothing is changed. Items that cannot take the action (decided by someone
else meanwhile, not in the team's inbox, already assigned so) are skipped and reported
with the reason; they do not stop the others. At most EARSHOT_BULK_MAX_ITEMS items
(default 500) per action.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.http import QueryDict

from accounts.models import Team
from triage.claims import HoldRejected, assign_locked, team_members
from triage.models import InboxItem, Outcome
from triage.services import DecisionRejected, inbox_item_decide

ACTIONS = ("decide", "dismiss", "assign")


class BulkRejected(ValueError):
    """The bulk action cannot be done as asked; nothing was changed. The message says why."""


@dataclass
class BulkResult:
    action: str
    changed: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


def bulk_limit() -> int:
    return settings.EARSHOT_BULK_MAX_ITEMS


def matching_item_ids(*, team: Team, filters: QueryDict, user_id: int) -> list[int]:
    """The open items the inbox shows for `filters` (its query string), in its order, refused past the limit.

    The filters are read exactly as the inbox reads them (triage.inbox_list), so "every
    open item in this view" is what the officer is looking at, search words included.
    """
    import dataclasses

    from triage import inbox_list
    from triage.views import _team_members

    searches = inbox_list.team_searches(team.id)
    members = {member.id for member in _team_members(team)}
    parsed, _problems = inbox_list.filters_read(filters, search_ids={s.id for s in searches}, member_ids=members)
    if parsed.decided:
        return []
    parsed = dataclasses.replace(parsed, cursor="")  # every page of the view, not only those after this one
    items = inbox_list._ordered(inbox_list.filtered_items(team_id=team.id, filters=parsed, user_id=user_id), parsed)
    ids = list(items.values_list("id", flat=True)[: bulk_limit() + 1])
    if len(ids) > bulk_limit():
        raise BulkRejected(
            f"This view holds more than {bulk_limit():,} open items; one bulk action takes at most {bulk_limit():,}. "
            "Narrow the filter, or select items one by one. Nothing was changed."
        )
    return ids


def _decided_reason(item: InboxItem) -> str:
    decision = item.latest_decision
    if decision is None:
        return "already decided"
    who = decision.decided_by.get_username() if decision.decided_by else "someone"
    return f"already decided by {who} as {decision.get_outcome_display().lower()}"


def inbox_items_bulk(
    *,
    team: Team,
    item_ids: list[int],
    action: str,
    actor,
    outcome: str = "",
    request_type: str = "",
    assignee=None,
    ip: str | None = None,
) -> BulkResult:
    """Apply `action` to every item in `item_ids` of `team`'s inbox, in one transaction.

    1. Refuse a bad action, an empty or over-long selection, or an assignee without
       access to the team, before touching anything.
    2. Lock the team's selected items in id order (two bulk actions never deadlock).
    3. Skip, with the reason, every id not in the team's inbox, decided meanwhile, or
       (assigning) already held by that person; act on the rest, one audit row each.
    """
    if action not in ACTIONS:
        raise BulkRejected("Choose what to do with the selected items: decide, dismiss or assign.")
    item_ids = list(dict.fromkeys(item_ids))
    if not item_ids:
        raise BulkRejected("Select at least one item first. Nothing was changed.")
    if len(item_ids) > bulk_limit():
        raise BulkRejected(
            f"{len(item_ids):,} items are selected; one bulk action takes at most {bulk_limit():,}. Nothing was changed."
        )
    if action == "dismiss":
        outcome, request_type = Outcome.NO_ACTION, ""
    if action in ("decide", "dismiss") and outcome not in Outcome.values:
        raise BulkRejected("Choose the outcome to record for the selected items.")
    if action == "assign" and assignee is not None and not team_members(team).filter(pk=assignee.pk).exists():
        raise BulkRejected("Assign to someone with access to this team's inbox.")
    result = BulkResult(action=action)
    with transaction.atomic():
        locked = {
            item.pk: item
            for item in InboxItem.objects.select_for_update(of=("self",))
            .filter(team=team, pk__in=item_ids)
            .select_related("assignee", "team", "mention")
            .order_by("pk")
        }
        for item_id in sorted(item_ids):
            item = locked.get(item_id)
            if item is None:
                result.skipped.append((item_id, "not in this team's inbox"))
            elif item.status == InboxItem.Status.DONE:
                result.skipped.append((item_id, _decided_reason(item)))
            elif action == "assign":
                try:
                    assign_locked(locked=item, actor=actor, assignee=assignee, ip=ip)
                except HoldRejected as rejected:
                    result.skipped.append((item_id, str(rejected)[0].lower() + str(rejected)[1:].rstrip(".")))
                    continue
                result.changed.append(item_id)
            else:
                try:
                    inbox_item_decide(item=item, outcome=outcome, request_type=request_type, actor=actor, ip=ip)
                except DecisionRejected as rejected:
                    # The item was open under our lock, so this is the input itself: refuse it all.
                    raise BulkRejected(f"{rejected} Nothing was changed.") from None
                result.changed.append(item_id)
    return result
