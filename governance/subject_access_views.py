"""Subject access and erasure by handle, for admins.

The handle travels only in POST bodies: never in a URL (which servers log), a
message or the session, so nothing outside the tables the erasure clears keeps it.
"""

import hashlib
import json

from django.apps import apps
from django.contrib import messages
from django.core import signing
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import role_required
from accounts.models import Role
from accounts.reauth import recent_auth_required
from governance.models import ErasureRecord
from governance.services import client_ip
from governance.subject_access import (
    ErasureChanged,
    ErasureRefused,
    SubjectError,
    erasure_preview,
    subject_access_export,
    subject_access_find,
    subject_erase,
    subject_from,
)
from governance.subject_access.export import findings_as_dict
from governance.subject_access.suppression import is_suppressed, suppression_remove
from listening.models import Platform

DISPLAY_MAX = 200
PREVIEW_SALT = "governance.erasure.preview"
PREVIEW_MAX_AGE = 60 * 60
ACTIONS = {"deleted": "deleted", "anonymised": "kept, content erased", "redacted": "references erased"}


def _form_page(request, *, form=None, error="", status=200):
    return render(request, "governance/subject_access.html", {
        "platforms": Platform.choices, "form": form or {}, "error": error,
        "erasures": ErasureRecord.objects.select_related("erased_by")[:20],
    }, status=status)


def _subject_or_page(request):
    try:
        return subject_from(request.POST), None
    except SubjectError as error:
        return None, _form_page(request, form=request.POST, error=str(error), status=400)


def _display(value):
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value


def _display_sections(found):
    data = findings_as_dict(found)
    sections = []
    for name, label, rows in found.sections():
        shown = [{k: _display(v) for k, v in row.items() if k != "raw"} for row in data[name][:DISPLAY_MAX]]
        sections.append({"name": name, "label": label, "count": len(rows), "rows": shown,
                         "columns": list(shown[0]) if shown else [], "more": max(0, len(rows) - DISPLAY_MAX)})
    return sections


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def subject_access(request):
    if request.method == "GET":
        return _form_page(request)
    subject, refusal = _subject_or_page(request)
    if refusal:
        return refusal
    try:
        found = subject_access_find(subject)
    except SubjectError as error:
        return _form_page(request, form=request.POST, error=str(error), status=400)
    return render(request, "governance/subject_access_results.html", {
        "subject": subject, "found": found, "sections": _display_sections(found), "as_at": timezone.now(),
        "display_max": DISPLAY_MAX, "suppressed": is_suppressed(subject.platform, subject.handle),
    })


@require_POST
@role_required(Role.ADMIN)
@recent_auth_required
def collect_again_view(request):
    """Take a person off the not-collected list, so saved searches store their posts again."""
    subject, refusal = _subject_or_page(request)
    if refusal:
        return refusal
    try:
        removed = suppression_remove(platform=subject.platform, handle=subject.handle,
                                     reason=request.POST.get("reason", ""), actor=request.user, ip=client_ip(request))
    except ValueError as error:
        messages.error(request, str(error))
    else:
        # As with erasures, the message never names the person: messages can be stored in the session.
        messages.success(request, "Their posts will be collected again." if removed
                         else "They were not on the not-collected list: nothing changed.")
    return redirect("governance:subject_access")


@require_POST
@role_required(Role.ADMIN)
def subject_access_export_view(request):
    subject, refusal = _subject_or_page(request)
    if refusal:
        return refusal
    try:
        found = subject_access_find(subject)
    except SubjectError as error:
        return _form_page(request, form=request.POST, error=str(error), status=400)
    content = subject_access_export(found=found, actor=request.user, ip=client_ip(request))
    response = HttpResponse(content, content_type="application/zip")
    # No handle in the name: downloads folders and proxies keep file names.
    response["Content-Disposition"] = f'attachment; filename="subject-access-{timezone.localdate():%Y-%m-%d}.zip"'
    return response


def _fingerprint(subject) -> str:
    # The preview token binds the counts to the person without carrying the handle itself.
    return hashlib.sha256(f"{subject.platform}\n{subject.handle.lower()}\n{subject.name.lower()}".encode()).hexdigest()


def _count_rows(counts: dict) -> list[dict]:
    rows = []
    for key, n in sorted(counts.items()):
        label, _, action = key.partition(":")
        try:
            table = str(apps.get_model(label)._meta.verbose_name_plural)
        except LookupError:
            table = label
        rows.append({"table": table, "action": ACTIONS.get(action, action), "count": n})
    return rows


def _preview_page(request, subject, *, counts=None, error="", status=200):
    if counts is None:
        try:
            counts = erasure_preview(subject=subject)
        except (ErasureRefused, SubjectError) as refused:
            counts, error, status = {}, str(refused), 400
    token = signing.dumps({"who": _fingerprint(subject), "counts": counts}, salt=PREVIEW_SALT)
    return render(request, "governance/erasure_preview.html", {
        "subject": subject, "counts": _count_rows(counts), "total": sum(counts.values()), "token": token,
        "error": error, "reason": request.POST.get("reason", "")[:300], "marker_day": timezone.localdate(),
    }, status=status)


@require_POST
@role_required(Role.ADMIN)
@recent_auth_required
def erasure_preview_view(request):
    subject, refusal = _subject_or_page(request)
    if refusal:
        return refusal
    return _preview_page(request, subject)


@require_POST
@role_required(Role.ADMIN)
@recent_auth_required
def erasure_view(request):
    if request.POST.get("confirm") != "erase":
        return HttpResponseBadRequest("Use the Erase button to erase.", content_type="text/plain")
    subject, refusal = _subject_or_page(request)
    if refusal:
        return refusal
    try:
        preview = signing.loads(request.POST.get("preview", ""), salt=PREVIEW_SALT, max_age=PREVIEW_MAX_AGE)
    except signing.BadSignature:
        return _preview_page(request, subject, error="The preview is missing or more than an hour old: check these "
                                                     "counts and erase again. Nothing was changed.", status=400)
    if not isinstance(preview, dict) or preview.get("who") != _fingerprint(subject):
        return _preview_page(request, subject, error="That preview was for someone else. Nothing was changed.", status=400)
    try:
        record = subject_erase(subject=subject, reason=request.POST.get("reason", ""), expected=preview.get("counts"),
                               actor=request.user, ip=client_ip(request),
                               stop_collecting=request.POST.get("stop_collecting") == "1")
    except ErasureChanged as changed:
        return _preview_page(request, subject, counts=changed.counts, error=str(changed), status=409)
    except (ErasureRefused, SubjectError) as refused:
        return _preview_page(request, subject, counts=preview.get("counts") or {}, error=str(refused), status=400)
    # The message names the record, never the person: messages can be stored in the session.
    messages.success(request, f"Erased: {record.total} rows changed or deleted. Erasure record {record.pk} holds the counts.")
    return redirect("governance:subject_access")
