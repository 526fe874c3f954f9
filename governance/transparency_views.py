"""The transparency report: a page, its JSON and CSV exports, and a printable version.

Every signed-in person with a role may read it, not only admins: it holds no names and
no post content, and is written to be published, so the people doing the monitoring
can see what the body says about it. Reading it changes nothing and is not audited.
"""

import csv
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.access import ANY_ROLE, role_required
from governance.transparency import report_rows, transparency_report
from governance.views import _cell


def _filename(report: dict, ext: str) -> str:
    return f"transparency-report-{timezone.localtime(report['as_at']):%Y-%m-%d}.{ext}"


@require_GET
@role_required(*ANY_ROLE)
def transparency(request):
    return render(request, "governance/transparency.html", {"report": transparency_report()})


@require_GET
@role_required(*ANY_ROLE)
def transparency_print(request):
    """The same report on a page of its own, laid out for paper."""
    return render(request, "governance/transparency_print.html", {"report": transparency_report()})


@require_GET
@role_required(*ANY_ROLE)
def transparency_json(request):
    report = transparency_report()
    body = json.dumps(report, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "json")}"'
    return response


class _Lines(list):
    def write(self, value):
        self.append(value)


@require_GET
@role_required(*ANY_ROLE)
def transparency_csv(request):
    report = transparency_report()
    lines = _Lines()
    writer = csv.writer(lines)
    for row in report_rows(report):
        # Names and purposes are typed by staff: keep a spreadsheet from reading them as formulas.
        writer.writerow([_cell(v) for v in row])
    response = HttpResponse("".join(lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "csv")}"'
    return response
