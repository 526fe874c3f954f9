from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.access import ANY_ROLE, access_for, role_required
from accounts.models import Team
from governance.services import client_ip
from listening.models import Platform
from triage import inbox_list, selectors
from triage.models import InboxItem, InformationRequestType, Outcome
from triage.services import DecisionRejected, inbox_item_decide
from triage.undo import undo_offer_remember


def _row_id(raw: str) -> int | None:
    """A row id from the address or a form, or None: at most 18 digits, so int() and bigint both take it."""
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw)
    return None


def _team_or_403(request, slug: str) -> Team:
    team = get_object_or_404(Team, slug=slug)
    if not request.access.can_triage(team.id):
        raise PermissionDenied("You have no access to this team's inbox.")
    return team


@require_GET
def home(request):
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    access = access_for(request.user)
    team_ids = access.team_ids()
    if not team_ids:
        return render(request, "accounts/no_access.html", status=403)
    team = Team.objects.filter(id__in=team_ids).order_by("name").first()
    return redirect("triage:inbox", slug=team.slug)


def _team_members(team: Team):
    """People with a grant in force on the team: the assignee filter's and the bulk bar's choices."""
    from triage.claims import team_members

    return list(team_members(team))


@require_GET
@role_required(*ANY_ROLE)
def inbox(request, slug):
    """The team's inbox: filters, search and the page all in the address; a fixed number of queries."""
    team = _team_or_403(request, slug)
    searches = inbox_list.team_searches(team.id)
    members = _team_members(team)
    filters, problems = inbox_list.filters_read(
        request.GET, search_ids={s.id for s in searches}, member_ids={m.id for m in members}
    )
    # The counts come in a request of their own (htmx, on load; or "Show counts" without
    # JavaScript), so the list never waits for them.
    counted = request.GET.get("counts") == "1"
    target = request.htmx.target if request.htmx else None
    only_counts = counted and target == "inbox-facets"
    page = None if only_counts else inbox_list.inbox_page(team_id=team.id, filters=filters, user_id=request.user.id)
    counts = inbox_list.inbox_facets(
        team_id=team.id, filters=filters, user_id=request.user.id, searches=searches, platforms=Platform.choices,
        counted=counted,
    )
    context = {
        "team": team,
        "teams": Team.objects.filter(id__in=request.access.team_ids()),
        "inbox_url": reverse("triage:inbox", kwargs={"slug": team.slug}),
        "filters": filters,
        "problems": problems,
        "facets": counts.facets,
        "counts_window_full": counts.window_full,
        "counts_search_bounded": counts.search_bounded,
        "count_window": inbox_list.COUNT_WINDOW,
        "search_window": inbox_list.SEARCH_WINDOW,
        "searches": searches,
        "members": members,
        "platforms": Platform.choices,
        "outcomes": Outcome.choices,
        "statuses": inbox_list.STATUSES,
        "sorts": inbox_list.SORTS,
        "page": page,
        "rows": page.rows if page else [],
        "counted": counted,
        "status": "done" if filters.decided else "new",
        "request_types": InformationRequestType.choices,
    }
    template = {
        "inbox": "triage/inbox.html#inbox_body",
        "inbox-items": "triage/inbox.html#item_list",
        "inbox-facets": "triage/inbox.html#facet_bar",
    }.get(target, "triage/inbox.html")
    return render(request, template, context)


@require_POST
@role_required(*ANY_ROLE)
def decide(request, item_id):
    item = get_object_or_404(InboxItem.objects.select_related("team", "mention"), pk=item_id)
    if not request.access.can_triage(item.team_id):
        raise PermissionDenied("You have no access to this team's inbox.")
    try:
        inbox_item_decide(
            item=item,
            outcome=request.POST.get("outcome", ""),
            request_type=request.POST.get("request_type", "") if request.POST.get("outcome") == Outcome.INFORMATION_REQUEST else "",
            note=request.POST.get("note", ""),
            redecide=request.POST.get("redecide") == "1",
            actor=request.user,
            ip=client_ip(request),
        )
    except DecisionRejected as rejected:
        if request.htmx:
            # Plain text, shown by earshot.js with textContent: the message may quote what was posted.
            return HttpResponseBadRequest(str(rejected), content_type="text/plain; charset=utf-8")
        messages.error(request, str(rejected))
        if request.POST.get("redecide") == "1":
            return redirect("triage:item", item_id=item.pk)
        return redirect("triage:inbox", slug=item.team.slug)
    decided = selectors.inbox_items(team_id=item.team_id, status="done", leaders_only=False).get(pk=item.pk)
    if request.htmx:
        context = {"item": decided, "team": item.team, "open_count": selectors.open_count(team_id=item.team_id)}
        return render(request, "triage/inbox.html#decided_row", context)
    messages.success(request, f"Recorded as {decided.latest_decision.get_outcome_display().lower()}.")
    undo_offer_remember(request.session, decided.latest_decision)
    if request.POST.get("redecide") == "1":
        return redirect("triage:item", item_id=item.pk)
    return redirect(reverse("triage:inbox", kwargs={"slug": item.team.slug}))


@require_GET
@role_required(*ANY_ROLE)
def item_detail(request, item_id):
    item = get_object_or_404(InboxItem.objects.select_related("team", "mention"), pk=item_id)
    if not request.access.can_triage(item.team_id):
        raise PermissionDenied("You have no access to this team's inbox.")
    item = selectors.inbox_items(
        team_id=item.team_id, status=item.status if item.status == "done" else "new", leaders_only=False
    ).get(pk=item.pk)
    return render(
        request,
        "triage/item_detail.html",
        {
            "item": item,
            "row": inbox_list.inbox_row(item_id=item.pk, team_id=item.team_id),
            "team": item.team,
            "outcomes": Outcome.choices,
            "request_types": InformationRequestType.choices,
            "note_max_length": settings.EARSHOT_DECISION_NOTE_MAX_LENGTH,
        },
    )


@require_GET
@role_required(*ANY_ROLE)
def group(request, item_id):
    """Every post of a group: its leader (as the inbox shows it) and its members, newest first."""
    item = get_object_or_404(InboxItem.objects.select_related("team", "mention", "group__mention"), pk=item_id)
    if not request.access.can_triage(item.team_id):
        raise PermissionDenied("You have no access to this team's inbox.")
    leader = item.group or item
    before = _row_id(request.GET.get("before", ""))
    members = selectors.group_members(leader=leader, before=before)
    has_more, members = len(members) > selectors.GROUP_PAGE_SIZE, members[: selectors.GROUP_PAGE_SIZE]
    context = {
        "team": item.team,
        "leader": leader,
        "members": members,
        "has_more": has_more,
        "next_before": members[-1].id if members else None,
    }
    return render(request, "triage/group.html", context)
