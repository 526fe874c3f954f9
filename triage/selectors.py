from datetime import date

from django.db.models import Prefetch, Q, QuerySet

from listening.models import MentionHit
from triage.models import Case, CaseKind, Decision, InboxItem, InformationRequestType

PAGE_SIZE = 50


def inbox_items(*, team_id: int, status: str, leaders_only: bool = True) -> QuerySet[InboxItem]:
    """A team's inbox, newest first, with everything a row shows fetched in fixed queries.

    A group of reposts and copies shows once, as its leader (`group_size` says how many).
    """
    items = InboxItem.objects.filter(team_id=team_id).select_related("mention", "team", "case", "assignee", "claimed_by")
    if leaders_only:
        items = items.filter(group__isnull=True)
    if status == "done":
        items = items.filter(status=InboxItem.Status.DONE).order_by("-decided_at", "-id")
    else:
        items = items.exclude(status=InboxItem.Status.DONE).order_by("-id")
    return items.prefetch_related(
        Prefetch("decisions", queryset=Decision.objects.select_related("decided_by").order_by("-decided_at", "-id")),
        Prefetch(
            "mention__hits",
            queryset=MentionHit.objects.filter(saved_search__team_id=team_id).select_related("saved_search"),
        ),
    )


def open_count(*, team_id: int) -> int:
    return InboxItem.objects.filter(team_id=team_id, group__isnull=True).exclude(status=InboxItem.Status.DONE).count()


GROUP_PAGE_SIZE = 100


def group_members(*, leader: InboxItem, before: int | None = None) -> list[InboxItem]:
    """A group's members, newest first, a page at a time (keyset on id); one more than a page."""
    members = InboxItem.objects.filter(group_id=leader.pk).select_related("mention").order_by("-id")
    if before is not None:
        members = members.filter(id__lt=before)
    return list(
        members.prefetch_related(
            Prefetch("decisions", queryset=Decision.objects.select_related("decided_by").order_by("-decided_at", "-id"))
        )[: GROUP_PAGE_SIZE + 1]
    )


CASE_PAGE_SIZE = 50


def _cases():
    return Case.objects.select_related("team", "forwarded_to", "owner", "item__mention")


def team_cases(*, team_id: int, side: str = "ours", status: str = "", kind: str = "", request_type: str = "") -> QuerySet[Case]:
    """A team's cases, newest first: the ones it decided, or the ones forwarded to it."""
    cases = _cases().filter(forwarded_to_id=team_id) if side == "forwarded" else _cases().filter(team_id=team_id)
    if status in Case.Status.values:
        cases = cases.filter(status=status)
    if kind in CaseKind.values:
        cases = cases.filter(kind=kind)
    if request_type in InformationRequestType.values:
        cases = cases.filter(request_type=request_type)
    return cases.order_by("-id")


def cases_due(*, team_id: int, through: date) -> QuerySet[Case]:
    """Open cases of the team, or forwarded to it, due on or before `through` (overdue first)."""
    return (
        _cases()
        .filter(Q(team_id=team_id) | Q(forwarded_to_id=team_id), status=Case.Status.OPEN, due_date__lte=through)
        .order_by("due_date", "id")
    )


def author_other_items(*, case: Case, limit: int = 20) -> list[InboxItem]:
    """The same author's other posts in the deciding team's inbox, newest first."""
    mention = case.item.mention
    if not mention.author_handle:
        return []
    return list(
        InboxItem.objects.filter(
            team_id=case.team_id, mention__platform=mention.platform, mention__author_handle=mention.author_handle
        )
        .exclude(pk=case.item_id)
        .select_related("mention", "case")
        .order_by("-id")[:limit]
    )
