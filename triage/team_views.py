"""A team's overview: what is open, what was decided today, what falls due, charts and mail."""

from datetime import datetime, time

from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.access import ANY_ROLE, role_required
from triage import selectors
from triage.charts import RANGES, team_charts
from triage.case_views import end_of_week, team_or_403
from triage.mail import mail_destination
from triage.models import Case, InboxItem, TeamMailPreference


def team_stats(team_id: int) -> dict:
    today = timezone.localdate()
    start_of_day = timezone.make_aware(datetime.combine(today, time.min))
    cases = Case.objects.filter(Q(team_id=team_id) | Q(forwarded_to_id=team_id), status=Case.Status.OPEN).aggregate(
        overdue=Count("id", filter=Q(due_date__lt=today)),
        due_this_week=Count("id", filter=Q(due_date__gte=today, due_date__lte=end_of_week(today))),
        open_cases=Count("id"),
    )
    return {
        "open_items": selectors.open_count(team_id=team_id),
        "decided_today": InboxItem.objects.filter(team_id=team_id, status=InboxItem.Status.DONE, decided_at__gte=start_of_day).count(),
        **cases,
    }


@require_GET
@role_required(*ANY_ROLE)
def team_overview(request, slug):
    team = team_or_403(request, slug)
    preference = TeamMailPreference.objects.filter(team=team).first() or TeamMailPreference(team=team)
    return render(request, "triage/team_overview.html", {
        "team": team, "stats": team_stats(team.id), "preference": preference,
        "digests": TeamMailPreference.Digest.choices, "destination": mail_destination(),
        **overview_extras(request, team),
    })


def overview_extras(request, team) -> dict:
    range_key = request.GET.get("range") if request.GET.get("range") in RANGES else "48h"
    return {"charts": team_charts(team=team, range_key=range_key), "range_key": range_key}
