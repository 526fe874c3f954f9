from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.access import role_required
from accounts.models import Role
from foi_monitoring.models import PublicAuthority

# Longer than any authority's name in the registers; a longer search is a mistake or a probe.
SEARCH_MAX_LENGTH = 200


@require_GET
@role_required(Role.FOI_ENFORCEMENT, Role.ADMIN)
def authority_list(request):
    query = request.GET.get("q", "").strip()
    authorities = PublicAuthority.objects.all()
    problem = ""
    if len(query) > SEARCH_MAX_LENGTH:
        problem = f"Search for at most {SEARCH_MAX_LENGTH} characters: a name, part of one, or a code."
        authorities = authorities.none()
    elif query:
        authorities = authorities.filter(Q(name__icontains=query) | Q(short_name__icontains=query) | Q(code__iexact=query))
    page = Paginator(authorities, 50).get_page(request.GET.get("page"))
    context = {"page": page, "query": query[:SEARCH_MAX_LENGTH], "problem": problem, "search_max_length": SEARCH_MAX_LENGTH}
    return render(request, "foi_monitoring/authority_list.html", context)
