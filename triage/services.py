from django.conf import settings
from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from governance.services import audit_event_record, audit_events_record
from triage.cases import case_open_for_decision
from triage.grouping import GROUPING_LOCK_SQL, grouping_lock_params
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
        # A group's leader: hold its team's grouping lock, before any row lock as ingest does,
        # so no repost joins undecided while the group is decided, and the two cannot deadlock.
        _group_locks_take(item)
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
        if locked.group_id is None and locked.group_size > 1:
            _group_members_decide(leader=locked, decision=decision, actor=actor, ip=ip, redecide=redecide)
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


def _group_locks_take(item: InboxItem) -> None:
    """Take the grouping lock of a leader's team (no-op for a member or an item stored before groups)."""
    keys = InboxItem.objects.filter(pk=item.pk).values("team_id", "group_id", "original_key").first()
    if keys is None or keys["group_id"] is not None or keys["original_key"] is None:
        return
    with connection.cursor() as cursor:
        cursor.execute(GROUPING_LOCK_SQL, grouping_lock_params([keys["team_id"]]))


def _group_members_decide(*, leader: InboxItem, decision: Decision, actor, ip: str | None, redecide: bool) -> int:
    """Decide a group's members with its leader: one decision and one audit row each.

    Members still open are decided; on a change of decision, so are the members whose
    standing decision was made with the group. A member decided on its own keeps its
    decision. Members get no case of their own: the leader's case speaks for the group.
    """
    latest = Decision.objects.filter(item=OuterRef("pk")).order_by("-decided_at", "-id")
    members = (
        InboxItem.objects.select_for_update(of=("self",))
        .filter(group_id=leader.pk)
        .annotate(with_group=Subquery(latest.values("group_decision_id")[:1]))
        .select_related("team", "mention")
        .order_by("id")
    )
    chosen = Q(status__in=[InboxItem.Status.NEW, InboxItem.Status.IN_PROGRESS])
    if redecide:
        chosen |= Q(with_group__isnull=False)
    members = list(members.filter(chosen))
    if not members:
        return 0
    now = timezone.now()
    Decision.objects.bulk_create(
        Decision(
            item=member, outcome=decision.outcome, request_type=decision.request_type, note=decision.note,
            decided_by=actor, group_decision=decision,
        )
        for member in members
    )
    InboxItem.objects.filter(pk__in=[m.pk for m in members]).update(
        status=InboxItem.Status.DONE, decided_at=now, claimed_by=None, claimed_at=None
    )
    details = {"outcome": decision.outcome, "request_type": decision.request_type, "with_group": leader.pk}
    audit_events_record(
        events=[
            ("triage.decide", member, {**details, "mention_id": member.mention_id, "previous_status": member.status})
            for member in members
        ],
        actor=actor,
        ip=ip,
    )
    return len(members)


def inbox_items_join_decided(*, joins: list[tuple[int, int, bool]]) -> None:
    """Items that joined an already decided group at ingest: (item id, leader id, from a loud account).

    Ingest stored them as done. Each is decided quietly with its group's standing
    outcome, one decision and one audit row each, and the group stays decided. The
    exception: a group decided as no action reopens when a verified or watched account
    (on any watch list) reposts it; the leader and the new items go back to new, with
    one audit row on the leader, and the earlier members keep their decisions.
    Runs inside ingest's transaction.
    """
    by_leader: dict[int, list[tuple[int, bool]]] = {}
    for item_id, leader_id, loud in joins:
        by_leader.setdefault(leader_id, []).append((item_id, loud))
    with transaction.atomic():
        leaders = InboxItem.objects.select_for_update().filter(pk__in=by_leader).in_bulk()
        items = InboxItem.objects.select_related("team", "mention").in_bulk([i for i, _, _ in joins])
        for leader_id, joined in by_leader.items():
            leader = leaders[leader_id]
            standing = leader.decisions.order_by("-decided_at", "-id").first()
            members = [items[item_id] for item_id, _ in joined]
            if standing is not None and standing.outcome == Outcome.NO_ACTION and any(loud for _, loud in joined):
                _group_reopen(leader=leader, members=members, loud=[items[i] for i, loud in joined if loud])
                continue
            if standing is not None:  # a leader closed without a decision: its members just close too
                Decision.objects.bulk_create(
                    Decision(
                        item=member, outcome=standing.outcome, request_type=standing.request_type,
                        decided_by=None, group_decision=standing,
                        note="Joined the group after it was decided.",
                    )
                    for member in members
                )
            details = {
                "outcome": standing.outcome if standing else "",
                "request_type": standing.request_type if standing else "",
                "with_group": leader.pk,
                "group_decision": standing.pk if standing else None,
            }
            audit_events_record(
                events=[
                    ("triage.decide_with_group", member, {**details, "mention_id": member.mention_id})
                    for member in members
                ],
                actor_label="ingest",
            )


def _group_reopen(*, leader: InboxItem, members: list[InboxItem], loud: list[InboxItem]) -> None:
    ids = [leader.pk, *(m.pk for m in members)]
    InboxItem.objects.filter(pk__in=ids).update(status=InboxItem.Status.NEW, decided_at=None)
    audit_event_record(
        action="triage.group_reopen",
        obj=leader,
        actor_label="ingest",
        details={
            "reposted_by": [f"{m.mention.platform}:{m.mention.author_handle}" for m in loud][:20],
            "items": [m.pk for m in members][:200],
            "previous_status": leader.status,
        },
    )
