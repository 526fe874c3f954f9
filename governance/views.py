"""The audit log for admins: a filtered, keyset-paged viewer, its CSV export, and the chain's verification."""

import csv

from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from accounts.access import role_required
from accounts.models import Role
from governance.selectors import FilterError, audit_events, audit_filters_from, audit_log_verify
from governance.services import audit_event_record, client_ip

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 100_000


def _before(request) -> int | None:
    value = request.GET.get("before", "")
    return int(value) if value.isascii() and value.isdecimal() and len(value) < 19 else None


@require_GET
@role_required(Role.ADMIN)
def audit_log(request):
    try:
        filters = audit_filters_from(request.GET)
    except FilterError as error:
        return render(request, "governance/audit_log.html", {"error": str(error), "form": request.GET, "events": []}, status=400)
    events = audit_events(filters)
    before = _before(request)
    if before is not None:
        # Keyset paging on the primary key: the same cost on the last page as on the first.
        events = events.filter(id__lt=before)
    page = list(events[: PAGE_SIZE + 1])
    has_more, page = len(page) > PAGE_SIZE, page[:PAGE_SIZE]
    query = filters.as_query()
    return render(request, "governance/audit_log.html", {
        "events": page, "form": query, "query_string": urlencode(query), "has_more": has_more,
        "next_before": page[-1].id if page else None, "page_size": PAGE_SIZE,
    })


def _cell(value) -> str:
    # Spreadsheet formula injection: labels, names and details may hold text a post or a person wrote.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value):
        return value


@require_GET
@role_required(Role.ADMIN)
def audit_export(request):
    try:
        filters = audit_filters_from(request.GET)
    except FilterError as error:
        return render(request, "governance/audit_log.html", {"error": str(error), "form": request.GET, "events": []}, status=400)
    # Taking a copy of the log is itself in the log, with the filters it used.
    audit_event_record(action="audit.export", actor=request.user, ip=client_ip(request), details={"filters": filters.as_query()})
    events = audit_events(filters)[:EXPORT_MAX_ROWS]
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(["id", "at", "actor", "action", "object_type", "object_id", "object", "ip", "details",
                               "previous_hash", "hash"])
        for e in events.iterator(chunk_size=1000):
            yield writer.writerow([_cell(v) for v in (
                e.id, timezone.localtime(e.at).isoformat(), e.actor_label, e.action, e.object_type, e.object_id,
                e.object_repr, e.ip, e.details_json, e.previous_hash, e.hash,
            )])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{timezone.localdate():%Y-%m-%d}.csv"'
    return response


@require_GET
@role_required(Role.ADMIN)
def audit_verify(request):
    return render(request, "governance/audit_verify.html", {"report": audit_log_verify(), "checked_at": timezone.now()})
