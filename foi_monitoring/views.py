from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.access import role_required
from accounts.models import Role
from foi_monitoring.models import PublicAuthority


@require_GET
@role_required(Role.FOI_ENFORCEMENT, Role.ADMIN)
def authority_list(request):
    query = request.GET.get("q", "").strip()
    authorities = PublicAuthority.objects.all()
    if query:
        authorities = authorities.filter(Q(name__icontains=query) | Q(short_name__icontains=query) | Q(code__iexact=query))
    page = Paginator(authorities, 50).get_page(request.GET.get("page"))
    return render(request, "foi_monitoring/authority_list.html", {"page": page, "query": query})
