from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import ANY_ROLE, role_required
from accounts.models import Role
from config import heartbeat
from governance.services import client_ip
from listening.forms import SavedSearchForm
from listening.models import Platform, SavedSearch, WatchList
from listening.selectors import saved_searches_listed
from listening.services import saved_search_archive, saved_search_save


@require_GET
@role_required(*ANY_ROLE)
def saved_search_list(request):
    searches = (
        saved_searches_listed(team_ids=request.access.team_ids())
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
        search = get_object_or_404(SavedSearch, pk=search_id, archived_at__isnull=True)
        _editable_or_403(request, search)
    form = SavedSearchForm(request.POST or None, instance=search, access=request.access)
    if request.method == "POST" and form.is_valid():
        saved_search_save(form=form, actor=request.user, ip=client_ip(request))
        return redirect("listening:saved_searches")
    return render(request, "listening/saved_search_form.html", {"form": form, "search": search})


@require_POST
@role_required(Role.COMMS_OFFICER, Role.FOI_ENFORCEMENT, Role.ADMIN)
def saved_search_archive_view(request, search_id):
    """Deleting a saved search archives it: it stops running and leaves the lists, its history stays."""
    search = get_object_or_404(SavedSearch, pk=search_id, archived_at__isnull=True)
    _editable_or_403(request, search)
    if request.POST.get("confirm") != "archive":
        # Only the Archive button says so: a stray or forged POST changes nothing.
        return HttpResponseBadRequest("Use the Archive button to archive a saved search.", content_type="text/plain")
    saved_search_archive(saved_search=search, actor=request.user, ip=client_ip(request))
    messages.success(request, f"Archived “{search.name}”. Its mentions and harvest history are kept.")
    return redirect("listening:saved_searches")


@require_GET
@role_required(*ANY_ROLE)
def harvest_health(request):
    from django.utils import timezone

    from listening.health import harvest_health_report

    report = harvest_health_report(team_ids=request.access.team_ids(), now=timezone.now())
    return render(
        request, "listening/harvest_health.html", {"report": report, "runs": report.runs, "pipeline": heartbeat.pipeline()}
    )


def _query_check(request):
    """Parse the query in the request; return (query or None, error context)."""
    from listening.query import QuerySyntaxError, parse

    text = request.POST.get("query", request.GET.get("query", ""))
    try:
        query = parse(text)
    except QuerySyntaxError as error:
        return None, {"error": error, "caret": caret_lines(text, error.position), "text": text}
    known = {name.lower() for name in WatchList.objects.values_list("name", flat=True)}
    missing = sorted(name for name in query.watch_lists() if name.lower() not in known)
    if missing:
        return None, {"unknown_list": missing[0], "text": text}
    return query, {"text": text}


CARET_CONTEXT = 60


def caret_lines(text: str, position: int, around: int = CARET_CONTEXT) -> tuple[str, str]:
    """The line of `text` holding `position`, and a line with ^ under that character.

    Only `around` characters either side of the position are shown, with … where the
    line is cut, so a long query costs a short answer.
    """
    position = max(0, min(position, len(text)))
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    end = len(text) if end == -1 else end
    left, right = max(start, position - around), min(end, position + around + 1)
    before, after = ("…" if left > start else ""), ("…" if right < end else "")
    return before + text[left:right] + after, " " * (len(before) + position - left) + "^"


def _native_previews(query, platforms: list[str]) -> list[dict]:
    from django.conf import settings as django_settings

    from listening.dispatch import platforms_without_search
    from listening.query import QueryNotSupported
    from listening.selectors import x_list_ids

    previews = []
    for platform in platforms:
        label = Platform(platform).label if platform in Platform.values else platform
        if platform in platforms_without_search():
            previews.append({"platform": label, "note": CHANNELS_ONLY_NOTE})
            continue
        if platform not in NATIVE_SEARCH_PLATFORMS:
            previews.append({"platform": label, "note": "No server-side search: every new post is fetched and matched here."})
            continue
        try:
            kwargs = {"x_max_length": django_settings.EARSHOT_X_QUERY_MAX_LENGTH, "x_list_ids": x_list_ids()} if platform == "x" else {}
            previews.append({"platform": label, "native": query.to_native(platform, **kwargs)})
        except QueryNotSupported as reason:
            previews.append({"platform": label, "unsupported": getattr(reason, "reason", str(reason))})
    return previews


NATIVE_SEARCH_PLATFORMS = ("x", "bluesky", "mastodon")
CHANNELS_ONLY_NOTE = (
    "No search on this platform: the search matches every new post of the channels an admin adds "
    "(news feeds, pages), here."
)


@require_http_methods(["GET", "POST"])
@role_required(Role.COMMS_OFFICER, Role.FOI_ENFORCEMENT, Role.ADMIN)
def saved_search_check(request):
    """As the officer types: the error under a caret, or what each platform will be asked."""
    if not request.POST.get("query", request.GET.get("query", "")).strip():
        return render(request, "listening/query_check.html", {})  # nothing typed yet: nothing to say
    query, context = _query_check(request)
    if query is not None:
        platforms = request.POST.getlist("platforms") or request.GET.getlist("platforms")
        context["previews"] = _native_previews(query, [p for p in platforms if p in Platform.values])
    return render(request, "listening/query_check.html", context)


@require_http_methods(["GET", "POST"])
@role_required(Role.COMMS_OFFICER, Role.FOI_ENFORCEMENT, Role.ADMIN)
def saved_search_try(request):
    """Run the query over mentions already stored and show the first matches, highlighted.

    Within EARSHOT_TRY_IT_BUDGET_SECONDS: past it, the answer says how far it got.
    """
    from django.conf import settings as django_settings

    from listening.selectors import stored_matches

    query, context = _query_check(request)
    if query is not None:
        try:
            days = max(1, min(365, int(request.POST.get("days", request.GET.get("days", 30)))))
        except ValueError:
            days = 30
        team_ids = None if request.access.is_admin else request.access.team_ids()
        result = stored_matches(
            query=query, days=days, team_ids=team_ids, budget_seconds=django_settings.EARSHOT_TRY_IT_BUDGET_SECONDS
        )
        context.update(days=days, result=result)
    return render(request, "listening/query_try.html", context)
