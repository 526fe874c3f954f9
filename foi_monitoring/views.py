import csv
from datetime import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import role_required
from accounts.models import Role
from foi_monitoring import register, selectors, services
from foi_monitoring.models import AuthoritySignal, PublicAuthority, ReviewDecision, ReviewMeeting, ReviewOutcome
from governance.services import audit_event_record, client_ip

FOI_ROLES = (Role.FOI_ENFORCEMENT, Role.ADMIN)

# Longer than any authority's name in the registers; a longer search is a mistake or a probe.
SEARCH_MAX_LENGTH = 200


@require_GET
@role_required(*FOI_ROLES)
def authority_list(request):
    query = request.GET.get("q", "").strip()
    problem = ""
    authorities = selectors.authority_search(query)
    if len(query) > SEARCH_MAX_LENGTH:
        problem = f"Search for at most {SEARCH_MAX_LENGTH} characters: a name, part of one, or a code."
        authorities = authorities.none()
    page = Paginator(authorities, 50).get_page(request.GET.get("page"))
    return render(request, "foi_monitoring/authority_list.html", {
        "page": page, "query": query[:SEARCH_MAX_LENGTH], "problem": problem, "search_max_length": SEARCH_MAX_LENGTH,
        "notice": selectors.deletion_notice(signals=AuthoritySignal.objects.all()),
    })


@require_GET
@role_required(*FOI_ROLES)
def authority_detail(request, authority_id):
    authority = get_object_or_404(PublicAuthority, pk=authority_id)
    signals = selectors.evidence(authority=authority)
    trend = selectors.weekly_trend(authority=authority)
    return render(request, "foi_monitoring/authority_detail.html", {
        "authority": authority,
        "flag": authority.flags.filter(closed_at__isnull=True).first(),
        "evidence": selectors.evidence_page(signals),
        "evidence_count": signals.count(),
        "evidence_limit": selectors.EVIDENCE_LIMIT,
        "trend": trend,
        "chart": selectors.trend_chart(trend),
        "history": selectors.decision_history(authority=authority),
        "notice": selectors.deletion_notice(signals=signals),
    })


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def authority_import(request):
    errors, result = [], None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors = [(0, ["Choose a CSV file to upload."])]
        elif upload.size > register.CSV_MAX_BYTES:
            errors = [(0, [f"The file is larger than {register.CSV_MAX_BYTES // (1024 * 1024)} MB."])]
        else:
            with transaction.atomic():
                result = register.csv_import(upload.read(register.CSV_MAX_BYTES + 1))
                errors = result.errors
                if result.ok:
                    audit_event_record(
                        action="foi.register_import", actor=request.user, ip=client_ip(request),
                        details={"source": "upload", "created": result.created, "updated": result.updated},
                    )
            if result.ok:
                messages.success(request, f"Imported: {result.created} authorities created, {result.updated} updated.")
                return redirect("foi_monitoring:authorities")
    return render(request, "foi_monitoring/authority_import.html", {
        "errors": errors, "columns": register.CSV_COLUMNS,
        "notice": selectors.deletion_notice(signals=AuthoritySignal.objects.all()),
    }, status=400 if errors else 200)


@require_GET
@role_required(*FOI_ROLES)
def flag_list(request):
    flags = list(selectors.open_flags())
    return render(request, "foi_monitoring/flag_list.html", {
        "flags": flags,
        "notice": selectors.deletion_notice(signals=AuthoritySignal.objects.filter(authority__flags__closed_at__isnull=True)),
    })


@require_GET
@role_required(*FOI_ROLES)
def flag_api(request):
    """The open flags as JSON: counts and authorities only, never posts."""
    flags = [
        {"authority": {"id": f.authority_id, "name": f.authority.name, "code": f.authority.code},
         "reason": f.reason, "opened_at": f.opened_at.isoformat(), "authors": f.authors_count,
         "signals": f.signals_count, "window_days": f.window_days}
        for f in selectors.open_flags()[:500]
    ]
    return JsonResponse({"flags": flags})


def _parse_local(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


@require_http_methods(["GET", "POST"])
@role_required(*FOI_ROLES)
def meeting_list(request):
    if request.method == "POST":
        starts_at = _parse_local(request.POST.get("starts_at", ""))
        try:
            meeting = services.review_meeting_create(
                starts_at=starts_at, attendees=request.POST.get("attendees", "")[:20_000],
                actor=request.user, ip=client_ip(request),
            )
        except services.MonitoringRejected as rejected:
            messages.error(request, str(rejected))
            return redirect("foi_monitoring:meetings")
        messages.success(request, f"Meeting scheduled with {meeting.agenda.count()} authorities on its agenda.")
        return redirect("foi_monitoring:meeting", meeting_id=meeting.pk)
    return render(request, "foi_monitoring/meeting_list.html", {
        "meetings": selectors.meetings(),
        "open_flags": selectors.open_flags().count(),
        "default_start": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "notice": selectors.deletion_notice(signals=AuthoritySignal.objects.all()),
    })


@require_GET
@role_required(*FOI_ROLES)
def meeting_detail(request, meeting_id):
    meeting = get_object_or_404(ReviewMeeting, pk=meeting_id)
    agenda = list(selectors.meeting_agenda(meeting=meeting))
    return render(request, "foi_monitoring/meeting_detail.html", {
        "meeting": meeting,
        "agenda": agenda,
        "outcomes": ReviewOutcome.choices,
        "started": meeting.starts_at <= timezone.now(),
        "notice": selectors.deletion_notice(
            signals=AuthoritySignal.objects.filter(authority_id__in=[item.authority_id for item in agenda])
        ),
        "records": meeting.purge_records.all(),
    })


@require_POST
@role_required(*FOI_ROLES)
def meeting_decide(request, meeting_id, decision_id):
    decision = get_object_or_404(ReviewDecision.objects.select_related("authority"), pk=decision_id, meeting_id=meeting_id)
    try:
        services.review_decision_record(
            decision=decision, outcome=request.POST.get("outcome", ""), notes=request.POST.get("notes", "")[:20_000],
            actor=request.user, ip=client_ip(request),
        )
    except services.MonitoringRejected as rejected:
        messages.error(request, f"{decision.authority.name}: {rejected}")
    else:
        messages.success(request, f"Decision recorded for {decision.authority.name}.")
    return redirect(reverse("foi_monitoring:meeting", kwargs={"meeting_id": meeting_id}) + f"#agenda-{decision.pk}")


@require_POST
@role_required(*FOI_ROLES)
def meeting_add_authority(request, meeting_id):
    meeting = get_object_or_404(ReviewMeeting, pk=meeting_id)
    code_or_id = request.POST.get("authority", "").strip()
    authority = None
    if code_or_id.isascii() and code_or_id.isdecimal():
        authority = PublicAuthority.objects.filter(pk=int(code_or_id)).first()
    elif code_or_id:
        authority = PublicAuthority.objects.filter(code__iexact=code_or_id[:20]).first()
    if authority is None:
        messages.error(request, "No authority with that register id or code.")
    else:
        try:
            services.review_meeting_add_authority(meeting=meeting, authority=authority, actor=request.user, ip=client_ip(request))
        except services.MonitoringRejected as rejected:
            messages.error(request, str(rejected))
    return redirect("foi_monitoring:meeting", meeting_id=meeting.pk)


@require_POST
@role_required(*FOI_ROLES)
def meeting_close(request, meeting_id):
    meeting = get_object_or_404(ReviewMeeting, pk=meeting_id)
    if request.POST.get("confirm") != "close":
        # Closing starts the deletion of what the monitoring collected: only the page's button does it.
        return HttpResponseBadRequest("Use the Close the minutes button to close a meeting.", content_type="text/plain")
    try:
        services.review_meeting_close(meeting=meeting, actor=request.user, ip=client_ip(request))
    except services.MonitoringRejected as rejected:
        messages.error(request, str(rejected))
    else:
        messages.success(request, "Minutes closed. What the monitoring collected before the meeting is deleted at the next purge.")
    return redirect("foi_monitoring:meeting", meeting_id=meeting.pk)


def _csv_cell(value) -> str:
    # A cell a spreadsheet would run as a formula is written as text.
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@require_GET
@role_required(*FOI_ROLES)
def meeting_minutes(request, meeting_id):
    """The minutes as CSV: authorities, counts, decisions and notes; never a post."""
    meeting = get_object_or_404(ReviewMeeting, pk=meeting_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="minutes-{timezone.localtime(meeting.starts_at):%Y-%m-%d}.csv"'
    writer = csv.writer(response)
    writer.writerow(["meeting", "attendees", "authority", "code", "signals", "authors", "decision", "notes", "decided_by", "decided_at"])
    starts = timezone.localtime(meeting.starts_at).strftime("%Y-%m-%d %H:%M")
    for item in meeting.agenda.select_related("authority", "decided_by").order_by("authority__name"):
        writer.writerow([_csv_cell(v) for v in (
            starts, "; ".join(meeting.attendee_list()), item.authority.name, item.authority.code, item.signals_count,
            item.authors_count, item.get_outcome_display() if item.outcome else "", item.notes,
            item.decided_by.get_username() if item.decided_by else "",
            timezone.localtime(item.decided_at).strftime("%Y-%m-%d %H:%M") if item.decided_at else "",
        )])
    audit_event_record(action="foi.minutes_export", actor=request.user, obj=meeting, ip=client_ip(request))
    return response
