from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import ANY_ROLE, role_required
from accounts.models import Role
from governance.services import client_ip
from listening.forms import SavedSearchForm
from listening.models import HarvestRun, SavedSearch, SavedSearchPlatform
from listening.services import saved_search_save


@require_GET
@role_required(*ANY_ROLE)
def saved_search_list(request):
    searches = (
        SavedSearch.objects.filter(team_id__in=request.access.team_ids())
        .select_related("team")
        .prefetch_related("platform_states")
    )
    return render(request, "listening/saved_search_list.html", {"searches": searches})


def _editable_or_403(request, search: SavedSearch):
    if not request.access.can_edit_search(team_id=search.team_id, purpose=search.purpose):
        raise PermissionDenied("Your role cannot edit this saved search.")


@require_http_methods(["GET", "POST"])
@role_required(Role.COMMS_OFFICER, Role.FOI_ENFORCEMENT, Role.ADMIN)
def saved_search_edit(request, search_id=None):
    search = None
    if search_id is not None:
        search = get_object_or_404(SavedSearch, pk=search_id)
        _editable_or_403(request, search)
    form = SavedSearchForm(request.POST or None, instance=search, access=request.access)
    if request.method == "POST" and form.is_valid():
        saved_search_save(form=form, actor=request.user, ip=client_ip(request))
        return redirect("listening:saved_searches")
    return render(request, "listening/saved_search_form.html", {"form": form, "search": search})


@require_GET
@role_required(*ANY_ROLE)
def harvest_health(request):
    team_ids = request.access.team_ids()
    states = (
        SavedSearchPlatform.objects.filter(saved_search__team_id__in=team_ids)
        .select_related("saved_search", "saved_search__team")
        .order_by("saved_search__team__name", "saved_search__name", "platform")
    )
    runs = HarvestRun.objects.filter(saved_search__team_id__in=team_ids).select_related("saved_search")[:50]
    return render(request, "listening/harvest_health.html", {"states": states, "runs": runs})
