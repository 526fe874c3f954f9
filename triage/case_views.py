"""Case pages: a team's case list, what falls due, one case and what officers do to it."""

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.access import ANY_ROLE, role_required
from accounts.models import AccessGrant, Team
from governance.services import client_ip
from triage import cases as case_services
from triage import selectors
from triage.models import Case, CaseKind, InformationRequestType
from triage.references import looks_like_reference


def team_or_403(request, slug: str) -> Team:
    team = get_object_or_404(Team, slug=slug)
    if not request.access.can_triage(team.id):
        raise PermissionDenied("You have no access to this team.")
    return team


def _case_or_403(request, reference: str) -> Case:
    if not looks_like_reference(reference):
        raise Http404("No such case.")
    case = get_object_or_404(
        Case.objects.select_related("team", "forwarded_to", "owner", "item__mention"), reference=reference
    )
    # The deciding team and the team it was forwarded to both work the case.
    if not (request.access.can_triage(case.team_id) or (case.forwarded_to_id and request.access.can_triage(case.forwarded_to_id))):
        raise PermissionDenied("You have no access to this case.")
    return case


def _positive_int(value: str) -> int | None:
    return int(value) if value and value.isascii() and value.isdecimal() and len(value) < 19 else None


@require_GET
@role_required(*ANY_ROLE)
def case_list(request, slug):
    team = team_or_403(request, slug)
    side = "forwarded" if request.GET.get("side") == "forwarded" else "ours"
    filters = {key: request.GET.get(key, "") for key in ("status", "kind", "request_type")}
    cases = selectors.team_cases(team_id=team.id, side=side, **filters)
    # Keyset pagination: the next page is everything older than the last id shown.
    before = _positive_int(request.GET.get("before", ""))
    if before:
        cases = cases.filter(id__lt=before)
    page = list(cases[: selectors.CASE_PAGE_SIZE + 1])
    has_more, page = len(page) > selectors.CASE_PAGE_SIZE, page[: selectors.CASE_PAGE_SIZE]
    query = "&".join(f"{key}={value}" for key, value in {"side": side, **filters}.items() if value and value.isidentifier())
    return render(request, "triage/case_list.html", {
        "team": team, "cases": page, "side": side, "filters": filters, "has_more": has_more,
        "next_before": page[-1].id if page else None, "query": query,
        "statuses": Case.Status.choices, "kinds": CaseKind.choices, "request_types": InformationRequestType.choices,
    })


def end_of_week(today: date) -> date:
    return today + timedelta(days=6 - today.weekday())


@require_GET
@role_required(*ANY_ROLE)
def cases_due(request, slug):
    team = team_or_403(request, slug)
    today = timezone.localdate()
    through = end_of_week(today)
    cases = selectors.cases_due(team_id=team.id, through=through)
    # Keyset on (due date, id), the order the list is in: ?after=2024-07-01.123
    after = request.GET.get("after", "")
    day, _, last_id = after.partition(".")
    try:
        after_day, after_id = date.fromisoformat(day), _positive_int(last_id)
    except ValueError:
        after_day, after_id = None, None
    if after_day and after_id:
        cases = cases.filter(Q(due_date__gt=after_day) | Q(due_date=after_day, id__gt=after_id))
    page = list(cases[: selectors.CASE_PAGE_SIZE + 1])
    has_more, page = len(page) > selectors.CASE_PAGE_SIZE, page[: selectors.CASE_PAGE_SIZE]
    return render(request, "triage/cases_due.html", {
        "team": team, "today": today, "through": through, "has_more": has_more,
        "overdue": [c for c in page if c.due_date < today], "due": [c for c in page if c.due_date >= today],
        "next_after": f"{page[-1].due_date.isoformat()}.{page[-1].id}" if page else "",
    })


def _case_people(case: Case):
    """Who can own the case: active people with a grant in force on its team or the team it went to."""
    team_ids = [case.team_id] + ([case.forwarded_to_id] if case.forwarded_to_id else [])
    holders = AccessGrant.objects.active().filter(team_id__in=team_ids).values("user_id")
    return get_user_model().objects.filter(is_active=True, pk__in=holders).order_by("username")


@require_GET
@role_required(*ANY_ROLE)
def case_detail(request, reference):
    case = _case_or_403(request, reference)
    return render(request, "triage/case_detail.html", {
        "case": case, "team": case.team, "mention": case.item.mention,
        "decisions": case.item.decisions.select_related("decided_by").order_by("decided_at", "id"),
        "events": case.events.select_related("actor"),
        "pauses": case.pauses.select_related("paused_by", "resumed_by"),
        # The deciding team's inbox stays its own: a team the case was forwarded to sees this case only.
        "other_items": selectors.author_other_items(case=case) if request.access.can_triage(case.team_id) else None,
        "people": _case_people(case), "teams": Team.objects.exclude(pk=case.team_id),
        "resolutions": [c for c in Case.Resolution.choices if c[0] != Case.Resolution.REDECIDED],
        "today": timezone.localdate(),
    })


def _date_or_none(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise case_services.CaseActionRejected(f"{value[:20]!r} is not a date (use YYYY-MM-DD).") from None


def _act(request, reference, action, success: str):
    case = _case_or_403(request, reference)
    try:
        action(case)
    except case_services.CaseActionRejected as rejected:
        messages.error(request, str(rejected))
    else:
        messages.success(request, success)
    return redirect("triage:case", reference=case.reference)


@require_POST
@role_required(*ANY_ROLE)
def case_note(request, reference):
    return _act(request, reference, lambda case: case_services.case_note_add(
        case=case, actor=request.user, note=request.POST.get("note", ""), ip=client_ip(request)), "Note added.")


@require_POST
@role_required(*ANY_ROLE)
def case_pause(request, reference):
    return _act(request, reference, lambda case: case_services.case_clock_pause(
        case=case, actor=request.user, reason=request.POST.get("reason", ""),
        paused_on=_date_or_none(request.POST.get("paused_on", "")), ip=client_ip(request)),
        "Clock stopped: waiting for the requester.")


@require_POST
@role_required(*ANY_ROLE)
def case_resume(request, reference):
    return _act(request, reference, lambda case: case_services.case_clock_resume(
        case=case, actor=request.user, answered_on=_date_or_none(request.POST.get("answered_on", "")),
        ip=client_ip(request)), "Clock restarted from the day the answer arrived.")


@require_POST
@role_required(*ANY_ROLE)
def case_extend(request, reference):
    return _act(request, reference, lambda case: case_services.case_clock_extend(
        case=case, actor=request.user, reason=request.POST.get("reason", ""),
        new_due=_date_or_none(request.POST.get("new_due", "")), ip=client_ip(request)), "Time extended.")


@require_POST
@role_required(*ANY_ROLE)
def case_assign(request, reference):
    def assign(case):
        owner_raw, team_raw = request.POST.get("owner", ""), request.POST.get("forwarded_to", "")
        owner_id, team_id = _positive_int(owner_raw), _positive_int(team_raw)
        # Blank means nobody / not forwarded; anything else must be an id from the page's lists,
        # so a mangled value is refused rather than read as "take the owner off".
        if owner_raw and owner_id is None:
            raise case_services.CaseActionRejected("Choose the owner from the list.")
        if team_raw and team_id is None:
            raise case_services.CaseActionRejected("Choose the team from the list.")
        owner = _case_people(case).filter(pk=owner_id).first() if owner_id else None
        if owner_id and owner is None:
            raise case_services.CaseActionRejected("The owner must have access to the case's team.")
        forwarded_to = Team.objects.filter(pk=team_id).first() if team_id else None
        if team_id and forwarded_to is None:
            raise case_services.CaseActionRejected("No such team.")
        case_services.case_assign(case=case, actor=request.user, owner=owner, forwarded_to=forwarded_to, ip=client_ip(request))

    return _act(request, reference, assign, "Saved.")


@require_POST
@role_required(*ANY_ROLE)
def case_close(request, reference):
    return _act(request, reference, lambda case: case_services.case_close(
        case=case, actor=request.user, resolution=request.POST.get("resolution", ""),
        note=request.POST.get("note", ""), ip=client_ip(request)), "Case closed.")


@require_POST
@role_required(*ANY_ROLE)
def case_reopen(request, reference):
    if request.POST.get("confirm") != "reopen":
        # Only the Reopen button says so: a stray or forged POST changes nothing.
        return HttpResponseBadRequest("Use the Reopen button to reopen a case.", content_type="text/plain")
    return _act(request, reference, lambda case: case_services.case_reopen(
        case=case, actor=request.user, note=request.POST.get("note", ""), ip=client_ip(request)), "Case reopened.")

