"""Refuse requests no view should ever see, with a plain 400, before any view runs.

One guard instead of a check in every field: whatever reaches a view, a form, the
admin or the database has no NUL character (PostgreSQL cannot store one), is valid
UTF-8, and has no parameter longer than EARSHOT_REQUEST_VALUE_MAX_LENGTH characters
or any number longer than Python will read (sys.get_int_max_str_digits()).

Checked: the path, the query string and a form-encoded body as raw bytes, the
parsed GET and POST names and values, cookies and header values (NUL only).
"""

import logging
import re
import sys
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.http import HttpResponse, HttpResponseBadRequest
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string

logger = logging.getLogger("earshot.request_guard")

NAME_MAX_LENGTH = 200
# No form posts more than this: the largest is the register import, whose file may be
# 2 MB (foi_monitoring.register.CSV_MAX_BYTES). Without a cap Django would spool any
# size of upload to disk while reading the form, for anyone, signed in or not.
BODY_MAX_BYTES = 10 * 1024 * 1024
_NUMBER = re.compile(r"\s*[+-]?[\d_]+\s*")


class Refused(Exception):
    """The request cannot be accepted; the message says why, in words for the person sending it."""


def _check_raw(raw: bytes, where: str) -> None:
    """Raw bytes from the wire: percent-decoded, they must be UTF-8 with no NUL."""
    decoded = unquote_to_bytes(raw.replace(b"+", b" "))
    try:
        decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(f"The {where} is not valid UTF-8 text. Check the address or the form and try again.") from None
    if b"\x00" in decoded:
        raise Refused(f"The {where} holds a NUL character, which cannot be accepted.")


def _check_parameter(name: str, value: str, where: str) -> None:
    if "\x00" in name or "\x00" in value:
        raise Refused(f"The {where} holds a NUL character, which cannot be accepted.")
    if len(name) > NAME_MAX_LENGTH:
        raise Refused(f"A field name in the {where} is longer than {NAME_MAX_LENGTH} characters.")
    limit = settings.EARSHOT_REQUEST_VALUE_MAX_LENGTH
    label = name[:40]
    if len(value) > limit:
        raise Refused(f"“{label}” is too long: {len(value):,} characters, and the most accepted is {limit:,}.")
    digits = sys.get_int_max_str_digits()
    if digits and len(value) > digits and _NUMBER.fullmatch(value):
        raise Refused(f"“{label}” is a number too long to be read ({len(value):,} digits).")


def request_check(request) -> None:
    """Raise Refused if any part of the request is unacceptable."""
    environ = request.META
    try:
        body_length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        body_length = 0  # Django reads no body without a length it understands
    if body_length > BODY_MAX_BYTES:
        raise Refused(f"This request is too large to be accepted: the most is {BODY_MAX_BYTES // (1024 * 1024)} MB.")
    # Django keeps the path with invalid UTF-8 bytes percent-encoded again (and no path
    # here has a literal %), so it is decoded once more; WSGI gives the query string's
    # raw bytes as latin-1 text.
    _check_raw(request.path_info.encode("utf-8"), "address")
    _check_raw(environ.get("QUERY_STRING", "").encode("latin-1", "replace"), "address")
    for name, value in request.GET.lists():
        for item in value or [""]:
            _check_parameter(name, item, "address")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if request.content_type == "application/x-www-form-urlencoded":
            _check_raw(request.body, "form")
        for name, value in request.POST.lists():
            for item in value or [""]:
                _check_parameter(name, item, "form")
    for name, value in request.COOKIES.items():
        if "\x00" in name or "\x00" in value:
            raise Refused("A cookie holds a NUL character. Clear this site's cookies and sign in again.")
    for key, value in environ.items():
        if key.startswith("HTTP_") and isinstance(value, str) and "\x00" in value:
            raise Refused("A request header holds a NUL character, which cannot be accepted.")


def refusal_response(request, message: str) -> HttpResponse:
    """Plain text for htmx (earshot.js shows it beside the control); a small page otherwise."""
    if request.headers.get("HX-Request") == "true":
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    return HttpResponseBadRequest(render_to_string("400.html", {"message": message}))


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            request_check(request)
        except Refused as refused:
            message = str(refused)
        except RequestDataTooBig:
            message = "This request is too large to be accepted."
        except (SuspiciousOperation, BadRequest, MultiPartParserError):
            # Too many fields, a malformed multipart body and the like: Django's own limits.
            message = "This request could not be read. Check the form and try again."
        else:
            return self.get_response(request)
        logger.warning("Refused %s %.200r: %s", request.method, request.META.get("PATH_INFO", ""), message)
        return refusal_response(request, message)
