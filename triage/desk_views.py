"""The triage desk around the inbox: claims and presence, take-over, assignment, undo and bulk actions.

Every view checks the role and the item's team, answers htmx with a fragment and
everything else with a redirect and a message, and refuses bad input with a message
(plain text to htmx) without changing anything.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.access import ANY_ROLE, role_required
from governance.services import client_ip
from triage import inbox_list, selectors
from triage.bulk import ACTIONS, BulkRejected, inbox_items_bulk, matching_item_ids
from triage.claims import (
    HoldRejected, inbox_item_assign, inbox_item_claim, inbox_item_release, inbox_item_take_over, team_members,
)
from triage.models import InboxItem, InformationRequestType, Outcome
from triage.undo import UNDO_SESSION_KEY, UndoRejected, decision_undo
from triage.views import _row_id, _team_or_403

HOLDERS_MAX_IDS = 200
# htmx stops polling when a poll is answered with this status.
STOP_POLLING = 286


def _item_or_403(request, item_id) -> InboxItem:
    item = get_object_or_404(InboxItem.objects.select_related("team", "claimed_by", "assignee"), pk=item_id)
    if not request.access.can_triage(item.team_id):
        raise PermissionDenied("You have no access to this team's inbox.")
    return item


def _refuse(request, text: str, *, back: str):
    """A refusal: plain text to htmx (shown beside the control), a message and a redirect otherwise."""
    if request.htmx:
        return HttpResponseBadRequest(text, content_type="text/plain; charset=utf-8")
    messages.error(request, text)
    return redirect(back)


def _confirmed(request, action: str) -> bool:
    return request.POST.get("confirm") == action


def _row(request, item: InboxItem, *, announce: str = "", with_count: bool = False, status: int = 200):
    """The item's inbox row, fetched as the inbox fetches it, with a line for the live region."""
    row = inbox_list.inbox_row(item_id=item.pk, team_id=item.team_id)
    context = {
        "row": row,
        "item": row.item,
        "team": item.team,
        "outcomes": Outcome.choices,
        "request_types": InformationRequestType.choices,
        "announce": announce,
        "on_item_page": request.POST.get("back") == "item",
        "open_count": selectors.open_count(team_id=item.team_id) if with_count else None,
    }
    return render(request, "triage/_desk_row.html", context, status=status)


# Claims and presence.


def _claim_panel(request, item: InboxItem, *, status: int = 200):
    item.refresh_from_db(fields=["status", "claimed_by", "claimed_at"])
    done = item.status == InboxItem.Status.DONE
    return render(
        request,
        "triage/_claim_panel.html",
        {"item": item, "holder": item.claim_holder},
        status=STOP_POLLING if done and request.htmx else status,
    )


@require_POST
@role_required(*ANY_ROLE)
def claim(request, item_id):
    """Claim an open item, or renew the claim: the item page does this on opening and every 30 seconds."""
    item = _item_or_403(request, item_id)
    back = reverse("triage:item", kwargs={"item_id": item.pk})
    if not _confirmed(request, "claim"):
        return _refuse(request, "Press “Claim” to claim the item.", back=back)
    inbox_item_claim(item=item, actor=request.user)
    if request.htmx:
        return _claim_panel(request, item)
    return redirect(back)


@require_POST
@role_required(*ANY_ROLE)
def release(request, item_id):
    """Let go of one's own claim: sent by the item page as the officer leaves it."""
    item = _item_or_403(request, item_id)
    if not _confirmed(request, "release"):
        back = reverse("triage:item", kwargs={"item_id": item.pk})
        return _refuse(request, "Press “Release” to let go of the item.", back=back)
    inbox_item_release(item=item, actor=request.user)
    if request.htmx or request.headers.get("Sec-Fetch-Mode") == "no-cors":
        return HttpResponse(status=204)
    return redirect("triage:inbox", slug=item.team.slug)


@require_POST
@role_required(*ANY_ROLE)
def take_over(request, item_id):
    item = _item_or_403(request, item_id)
    back = reverse("triage:item", kwargs={"item_id": item.pk})
    if not _confirmed(request, "take_over"):
        return _refuse(request, "Press “Take over” to take the item from its claimant.", back=back)
    try:
        inbox_item_take_over(item=item, actor=request.user, ip=client_ip(request))
    except HoldRejected as rejected:
        return _refuse(request, str(rejected), back=back)
    if request.htmx:
        return _claim_panel(request, item)
    messages.success(request, "You took the item over; its claimant sees that you are triaging it.")
    return redirect(back)


def _ids(raw: str) -> list[int]:
    """Comma-separated row ids; anything else is dropped, and at most HOLDERS_MAX_IDS are read."""
    ids = []
    for part in raw.split(",")[:HOLDERS_MAX_IDS]:
        value = _row_id(part.strip())
        if value is not None:
            ids.append(value)
    return ids


@require_GET
@role_required(*ANY_ROLE)
def holders(request, slug):
    """Who holds each of the inbox rows on screen, as out-of-band swaps of their "holder" lines (polled)."""
    team = _team_or_403(request, slug)
    ids = _ids(request.GET.get("ids", ""))
    items = (
        InboxItem.objects.filter(team=team, pk__in=ids).select_related("assignee", "claimed_by")
        .only("id", "status", "assignee__username", "claimed_by__username", "claimed_at")
        if ids else []
    )
    return render(request, "triage/_holders.html", {"items": items})


# Assignment and undo.


def _assignee_from(request, item_team):
    """The posted assignee: "me", "none" (nobody), or a user id. Raises HoldRejected on anything else."""
    raw = request.POST.get("assignee", "")
    if raw == "me":
        return request.user
    if raw == "none":
        return None
    user_id = _row_id(raw)
    if user_id is None:
        raise HoldRejected("Choose who to assign the item to.")
    assignee = team_members(item_team).filter(pk=user_id).first()
    if assignee is None:
        raise HoldRejected("Assign to someone with access to this team's inbox.")
    return assignee


@require_POST
@role_required(*ANY_ROLE)
def assign(request, item_id):
    item = _item_or_403(request, item_id)
    back = request.POST.get("back") == "item" and reverse("triage:item", kwargs={"item_id": item.pk})
    back = back or reverse("triage:inbox", kwargs={"slug": item.team.slug})
    try:
        assignee = _assignee_from(request, item.team)
        inbox_item_assign(item=item, actor=request.user, assignee=assignee, ip=client_ip(request))
    except HoldRejected as rejected:
        return _refuse(request, str(rejected), back=back)
    if assignee is None:
        said = "Unassigned."
    elif assignee.pk == request.user.pk:
        said = "Assigned to you."
    else:
        said = f"Assigned to {assignee.get_username()}."
    if request.htmx:
        return _row(request, item, announce=said)
    messages.success(request, said)
    return redirect(back)


@require_POST
@role_required(*ANY_ROLE)
def undo(request, item_id):
    item = _item_or_403(request, item_id)
    back = reverse("triage:inbox", kwargs={"slug": item.team.slug})
    decision_id = _row_id(request.POST.get("decision", ""))
    if decision_id is None or not item.decisions.filter(pk=decision_id).exists():
        return _refuse(request, "There is no such decision on this item to undo.", back=back)
    try:
        item.status = decision_undo(decision_id=decision_id, actor=request.user, ip=client_ip(request)).status
    except UndoRejected as rejected:
        return _refuse(request, str(rejected), back=back)
    request.session.pop(UNDO_SESSION_KEY, None)
    if request.htmx:
        return _row(request, item, announce="Decision undone; the item is open again.", with_count=True)
    messages.success(request, "Decision undone; the item is open again.")
    return redirect(back)


# Bulk.


def _posted_ids(request) -> list[int] | None:
    """The selected item ids, or None when one of them is not a row id."""
    raw = request.POST.getlist("items")
    ids = [_row_id(value) for value in raw]
    return None if any(value is None for value in ids) else ids


def _bulk_summary(result, assignee_name: str) -> str:
    verb = {"decide": "Recorded", "dismiss": "Dismissed", "assign": f"Assigned to {assignee_name}:"}[result.action]
    said = f"{verb} {len(result.changed)} item{'s' if len(result.changed) != 1 else ''}."
    if result.skipped:
        shown = "; ".join(f"#{item_id} {reason}" for item_id, reason in result.skipped[:20])
        more = f"; and {len(result.skipped) - 20} more" if len(result.skipped) > 20 else ""
        said += f" Skipped {len(result.skipped)}: {shown}{more}."
    return said


@require_POST
@role_required(*ANY_ROLE)
def bulk(request, slug):
    """Decide, dismiss or assign the selected items (or every item the view shows) in one transaction."""
    team = _team_or_403(request, slug)
    filters = request.POST.get("filters", "")[:2000]
    back = reverse("triage:inbox", kwargs={"slug": team.slug}) + (f"?{QueryDict(filters).urlencode()}" if filters else "")
    action = request.POST.get("action", "")
    try:
        if action not in ACTIONS:
            raise BulkRejected("Choose what to do with the selected items: decide, dismiss or assign.")
        if request.POST.get("scope") == "all":
            item_ids = matching_item_ids(team=team, filters=QueryDict(filters), user_id=request.user.id)
        else:
            item_ids = _posted_ids(request)
            if item_ids is None:
                raise BulkRejected("The selection holds something that is not an inbox item. Nothing was changed.")
        assignee, assignee_name = None, "nobody"
        if action == "assign":
            try:
                assignee = _assignee_from(request, team)
            except HoldRejected as rejected:
                raise BulkRejected(f"{rejected} Nothing was changed.") from None
            assignee_name = "you" if assignee and assignee.pk == request.user.pk else (
                assignee.get_username() if assignee else "nobody"
            )
        outcome = request.POST.get("outcome", "")
        request_type = request.POST.get("request_type", "") if outcome == Outcome.INFORMATION_REQUEST else ""
        result = inbox_items_bulk(
            team=team, item_ids=item_ids, action=action, actor=request.user, outcome=outcome,
            request_type=request_type, assignee=assignee, ip=client_ip(request),
        )
    except BulkRejected as rejected:
        return _refuse(request, str(rejected), back=back)
    said = _bulk_summary(result, assignee_name)
    (messages.warning if result.skipped else messages.success)(request, said)
    return redirect(back)

