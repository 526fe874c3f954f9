"""The retention page for admins: the policies with their last purges, a preview of a change, and saving it."""

from django.conf import settings
from django.contrib import messages
from django.db import OperationalError, connection, transaction
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.access import role_required
from accounts.models import Role
from accounts.reauth import recent_auth_required
from governance.models import PurgeRecord, RetentionPolicy
from governance.retention import (
    CLOCKS,
    RetentionChangeRejected,
    describe_counts,
    retention_days_parse,
    retention_policy_change,
    retention_preview,
)
from governance.services import client_ip

RECENT_PURGES = 20


def _policy(category: str) -> RetentionPolicy:
    policy = RetentionPolicy.objects.filter(category=category).first()
    if policy is None:
        raise Http404("No such retention policy.")
    return policy


def _page(request, *, error: str = "", error_category: str = "", status: int = 200):
    policies = list(RetentionPolicy.objects.select_related("updated_by"))
    # The newest purge of each category, in one query.
    last = {r.category: r for r in PurgeRecord.objects.order_by("category", "-created_at", "-id").distinct("category")}
    rows = [{"policy": p, "clock": CLOCKS.get(p.category, ""), "last": last.get(p.category)} for p in policies]
    foi_last = last.get(PurgeRecord.Category.FOI_MONITORING)
    return render(request, "governance/retention.html", {
        "rows": rows,
        "foi_last": foi_last,
        "recent": [(r, describe_counts(r.counts)) for r in PurgeRecord.objects.all()[:RECENT_PURGES]],
        "error": error, "error_category": error_category,
        "min_days": RetentionPolicy.MIN_DAYS, "max_days": RetentionPolicy.MAX_DAYS,
        "nightly_at": f"{settings.EARSHOT_RETENTION_HOUR:02d}:{settings.EARSHOT_RETENTION_MINUTE:02d}",
        "foi_days": settings.EARSHOT_FOI_PURGE_DAYS_AFTER_MEETING, "foi_ceiling": settings.EARSHOT_FOI_PURGE_CEILING_DAYS,
    }, status=status)


@require_GET
@role_required(Role.ADMIN)
def retention(request):
    return _page(request)


def _bounded_preview(category: str, days: int) -> dict[str, int] | None:
    """The preview's counts, or None when counting took longer than the setting allows."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = %s", [settings.EARSHOT_RETENTION_PREVIEW_SECONDS * 1000])
            return retention_preview(category=category, days=days)
    except OperationalError:
        return None


@require_GET
@role_required(Role.ADMIN)
def retention_preview_view(request, category):
    policy = _policy(category)
    try:
        days = retention_days_parse(request.GET.get("days"))
    except RetentionChangeRejected as error:
        if request.htmx:
            # Shown beside the form by earshot.js; htmx swaps nothing on a 400.
            return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
        return _page(request, error=str(error), error_category=policy.category, status=400)
    counts = _bounded_preview(policy.category, days)
    current = _bounded_preview(policy.category, policy.days) if days != policy.days and counts is not None else None
    context = {
        "policy": policy, "days": days, "counts": counts, "described": describe_counts(counts) if counts is not None else "",
        "current_described": describe_counts(current) if current is not None else "",
        "clock": CLOCKS.get(policy.category, ""), "timeout": settings.EARSHOT_RETENTION_PREVIEW_SECONDS,
    }
    template = "governance/retention_preview.html"
    if request.htmx:
        template += "#preview"
    return render(request, template, context)


@require_POST
@role_required(Role.ADMIN)
@recent_auth_required
def retention_save(request, category):
    policy = _policy(category)
    if request.POST.get("confirm") != "save":
        return HttpResponseBadRequest("Preview the change, then use its Save button.", content_type="text/plain")
    try:
        days = retention_days_parse(request.POST.get("days"))
        old = policy.days
        retention_policy_change(policy=policy, days=days, actor=request.user, ip=client_ip(request))
    except RetentionChangeRejected as error:
        return _page(request, error=f"{error} Nothing was changed.", error_category=policy.category, status=400)
    messages.success(
        request, f"{policy.get_category_display()} are now kept {days:,} days (were {old:,}). "
        f"The next nightly purge applies it."
    )
    return redirect("governance:retention")
