"""Circulating an item by email, the circulation record and its export, and team mail settings."""

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import ANY_ROLE, role_required
from accounts.models import Team
from governance.services import audit_event_record, client_ip
from triage.case_views import team_or_403
from triage.circulations import (
    MAX_RECIPIENT_TEAMS,
    NOTE_MAX_LENGTH,
    CirculationRejected,
    circulation_create,
    circulation_retry,
    team_mail_preference_save,
)
from triage.mail import mail_destination
from triage.models import Circulation, CirculationRecipient, InboxItem, TeamMailPreference

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 50_000


def _team_ids(values: list[str]) -> list[int]:
    return [int(v) for v in values[: MAX_RECIPIENT_TEAMS + 1] if v.isascii() and v.isdecimal() and len(v) < 19]


@require_http_methods(["GET", "POST"])
@role_required(*ANY_ROLE)
def circulate(request, item_id):
    item = get_object_or_404(InboxItem.objects.select_related("team", "mention"), pk=item_id)
    if not request.access.can_triage(item.team_id):
        raise PermissionDenied("You have no access to this team's inbox.")
    if request.method == "POST":
        try:
            circulation = circulation_create(
                item=item, actor=request.user, team_ids=_team_ids(request.POST.getlist("teams")),
                note=request.POST.get("note", ""), ip=client_ip(request),
            )
        except CirculationRejected as rejected:
            messages.error(request, str(rejected))
        else:
            count = circulation.recipients.count()
            messages.success(request, f"Circulated to {count} team{'s' if count != 1 else ''}; the emails go to {mail_destination()}.")
            return redirect("triage:circulations", slug=item.team.slug)
    return render(request, "triage/circulate.html", {
        "item": item, "team": item.team, "teams": Team.objects.order_by("name"),
        "note_max": NOTE_MAX_LENGTH, "chosen": set(_team_ids(request.POST.getlist("teams"))),
        "note": request.POST.get("note", ""), "destination": mail_destination(),
    })


def _team_circulations(team: Team):
    # Sent from this team's inbox, or received by the team.
    return (
        Circulation.objects.filter(Q(team=team) | Q(pk__in=CirculationRecipient.objects.filter(team=team).values("circulation_id")))
        .select_related("team", "sender")
        .prefetch_related(Prefetch("recipients", queryset=CirculationRecipient.objects.select_related("team")))
        .order_by("-id")
    )


@require_GET
@role_required(*ANY_ROLE)
def circulation_list(request, slug):
    team = team_or_403(request, slug)
    circulations = _team_circulations(team)
    before = request.GET.get("before", "")
    if before.isascii() and before.isdecimal() and len(before) < 19:
        circulations = circulations.filter(id__lt=int(before))
    page = list(circulations[: PAGE_SIZE + 1])
    has_more, page = len(page) > PAGE_SIZE, page[:PAGE_SIZE]
    return render(request, "triage/circulation_list.html", {
        "team": team, "circulations": page, "has_more": has_more, "next_before": page[-1].id if page else None,
        "destination": mail_destination(),
    })


def _cell(value) -> str:
    # Spreadsheet formula injection: a cell a post wrote must not start a formula.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value):
        return value


@require_GET
@role_required(*ANY_ROLE)
def circulation_export(request, slug):
    team = team_or_403(request, slug)
    audit_event_record(action="circulation.export", actor=request.user, obj=team, ip=client_ip(request))
    circulations = _team_circulations(team)[:EXPORT_MAX_ROWS]
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(["id", "sent_at", "kind", "from_team", "sender", "recipients", "subject", "note",
                               "post_author", "post_url", "saved_searches"])
        for c in circulations.iterator(chunk_size=500):
            recipients = "; ".join(f"{r.team.name} <{r.email}>: {r.get_status_display()}" for r in c.recipients.all())
            yield writer.writerow([_cell(v) for v in (
                c.id, timezone.localtime(c.created_at).isoformat(), c.get_kind_display(), c.team.name,
                c.sender.get_username() if c.sender else "system", recipients, c.subject, c.note,
                c.mention_author, c.mention_url, c.saved_searches,
            )])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="circulations-{team.slug}-{timezone.localdate():%Y-%m-%d}.csv"'
    return response


@require_POST
@role_required(*ANY_ROLE)
def circulation_retry_view(request, circulation_id):
    circulation = get_object_or_404(Circulation.objects.select_related("team"), pk=circulation_id)
    if not request.access.can_triage(circulation.team_id):
        raise PermissionDenied("Only the sending team can resend its circulations.")
    if request.POST.get("confirm") != "retry":
        # Only the Retry button says so: a stray or forged POST sends nothing.
        return HttpResponseBadRequest("Use the Retry failed emails button to resend a circulation.", content_type="text/plain")
    try:
        count = circulation_retry(circulation=circulation, actor=request.user, ip=client_ip(request))
    except CirculationRejected as rejected:
        messages.error(request, str(rejected))
    else:
        messages.success(request, f"Sending {count} email{'s' if count != 1 else ''} again.")
    return redirect("triage:circulations", slug=circulation.team.slug)


@require_POST
@role_required(*ANY_ROLE)
def team_mail(request, slug):
    team = team_or_403(request, slug)
    try:
        team_mail_preference_save(
            team=team, actor=request.user, news_digest=request.POST.get("news_digest", TeamMailPreference.Digest.OFF),
            due_cases_daily=request.POST.get("due_cases_daily") == "on", ip=client_ip(request),
        )
    except CirculationRejected as rejected:
        messages.error(request, str(rejected))
    else:
        messages.success(request, "Email settings saved.")
    return redirect("triage:team", slug=team.slug)
