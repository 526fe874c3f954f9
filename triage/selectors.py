from django.db.models import Prefetch, QuerySet

from listening.models import MentionHit
from triage.models import Decision, InboxItem

PAGE_SIZE = 50


def inbox_items(*, team_id: int, status: str) -> QuerySet[InboxItem]:
    """A team's inbox, newest first, with everything a row shows fetched in fixed queries."""
    items = InboxItem.objects.filter(team_id=team_id).select_related("mention", "team")
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
    return InboxItem.objects.filter(team_id=team_id).exclude(status=InboxItem.Status.DONE).count()
