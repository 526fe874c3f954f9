"""Spike alerts: the team's list, dismissing one, and each saved search's thresholds."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.access import ANY_ROLE, role_required
from governance.services import client_ip
from listening.models import SavedSearch
from triage.case_views import team_or_403
from triage.models import SpikeAlert
from triage.spikes import ThresholdRejected, spike_alert_dismiss, spike_threshold_save, thresholds_for

PAGE_SIZE = 50


@require_GET
@role_required(*ANY_ROLE)
def alert_list(request, slug):
    team = team_or_403(request, slug)
    alerts = SpikeAlert.objects.filter(team=team).select_related("saved_search", "dismissed_by").order_by("-id")
    before = request.GET.get("before", "")
    if before.isascii() and before.isdecimal() and len(before) < 19:
        alerts = alerts.filter(id__lt=int(before))
    page = list(alerts[: PAGE_SIZE + 1])
    has_more, page = len(page) > PAGE_SIZE, page[:PAGE_SIZE]
    searches = SavedSearch.objects.filter(team=team, archived_at__isnull=True).select_related("spike_threshold").order_by("name")
    rows = [
        (search, thresholds_for(search, getattr(search, "spike_threshold", None)),
         request.access.can_edit_search(team_id=team.id, purpose=search.purpose))
        for search in searches
    ]
    return render(request, "triage/alert_list.html", {
        "team": team, "alerts": page, "has_more": has_more, "next_before": page[-1].id if page else None, "rows": rows,
    })


@require_POST
@role_required(*ANY_ROLE)
def alert_dismiss(request, alert_id):
    alert = get_object_or_404(SpikeAlert.objects.select_related("team"), pk=alert_id)
    if not request.access.can_triage(alert.team_id):
        raise PermissionDenied("You have no access to this team.")
    if request.POST.get("confirm") != "dismiss":
        # Only the Dismiss button says so: a stray or forged POST changes nothing.
        return HttpResponseBadRequest("Use the Dismiss button to dismiss an alert.", content_type="text/plain")
    spike_alert_dismiss(alert=alert, actor=request.user, ip=client_ip(request))
    return redirect("triage:alerts", slug=alert.team.slug)


@require_POST
@role_required(*ANY_ROLE)
def spike_threshold(request, search_id):
    search = get_object_or_404(SavedSearch.objects.select_related("team"), pk=search_id)
    if not request.access.can_edit_search(team_id=search.team_id, purpose=search.purpose):
        raise PermissionDenied("You cannot change this saved search.")
    try:
        spike_threshold_save(
            search=search, actor=request.user, ratio=request.POST.get("ratio", ""),
            min_count=request.POST.get("min_count", ""), cooldown_minutes=request.POST.get("cooldown_minutes", ""),
            enabled=request.POST.get("enabled") == "on", ip=client_ip(request),
        )
    except ThresholdRejected as rejected:
        messages.error(request, f"{search.name}: {rejected}")
    else:
        messages.success(request, f"Spike alerts for {search.name} saved.")
    return redirect("triage:alerts", slug=search.team.slug)
