"""Session limits: signed out after EARSHOT_SESSION_IDLE_MINUTES without activity, after
EARSHOT_SESSION_MAX_HOURS in all, and at once when the account is no longer active.

The session holds when it was signed in and when it was last used, as whole seconds.
"Last used" is written at most once every ACTIVITY_WRITE_SECONDS, so a busy page does
not rewrite its session row on every request; the cost is that an idle session can end
up to that much early, never late.
"""

import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

STARTED_KEY = "earshot_signed_in_at"
ACTIVITY_KEY = "earshot_last_activity_at"
ACTIVITY_WRITE_SECONDS = 60


def now() -> int:
    """The clock every session limit reads (tests replace it)."""
    return int(time.time())


def session_stamps_reset(session) -> None:
    """Start the session's clocks: called when someone signs in."""
    moment = now()
    session[STARTED_KEY] = moment
    session[ACTIVITY_KEY] = moment


def idle_message() -> str:
    return f"You were signed out after {settings.EARSHOT_SESSION_IDLE_MINUTES} minutes without activity. Please sign in again."


def absolute_message() -> str:
    return f"You were signed out because a session lasts at most {settings.EARSHOT_SESSION_MAX_HOURS} hours. Please sign in again."


INACTIVE_MESSAGE = "You were signed out because your account is no longer active."


class SessionLimitsMiddleware:
    """Ends a signed-in session that is idle too long, too old, or whose user is inactive.

    Goes after AuthenticationMiddleware and MessageMiddleware: it reads request.user and
    leaves the reason as a message for the sign-in page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = self._refusal(request)
        if refusal is not None:
            request.session.flush()
            request.user = AnonymousUser()
            messages.warning(request, refusal)
            return self._to_sign_in(request)
        return self.get_response(request)

    def _refusal(self, request) -> str | None:
        session = request.session
        if SESSION_KEY not in session:
            return None
        user = request.user
        # The authentication backend already treats an inactive user as signed out; the
        # session must not outlive that, whatever backend is configured.
        if not user.is_authenticated or not user.is_active:
            return INACTIVE_MESSAGE
        moment = now()
        started = session.get(STARTED_KEY)
        last = session.get(ACTIVITY_KEY)
        if not isinstance(started, int) or not isinstance(last, int):
            # Signed in before these limits existed: the clocks start now.
            session_stamps_reset(session)
            return None
        if moment - started >= settings.EARSHOT_SESSION_MAX_HOURS * 3600:
            return absolute_message()
        if moment - last >= settings.EARSHOT_SESSION_IDLE_MINUTES * 60:
            return idle_message()
        if moment - last >= ACTIVITY_WRITE_SECONDS:
            session[ACTIVITY_KEY] = moment
        return None

    def _to_sign_in(self, request):
        if request.headers.get("HX-Request") == "true":
            # A fragment request must not swap the sign-in page into part of a page:
            # htmx sends the whole browser there instead, back to the page it was on.
            next_path = self._safe_path(request, request.headers.get("HX-Current-URL", ""))
        elif request.method == "GET":
            next_path = request.get_full_path()
        else:
            # After signing in again the browser GETs `next`; a POST-only address would refuse it.
            next_path = self._safe_path(request, request.headers.get("Referer", ""))
        login_url = resolve_url(settings.LOGIN_URL)
        if urlsplit(next_path).path == login_url:
            next_path = ""  # signing in to return to the sign-in page would loop
        target = redirect_to_login(next_path)["Location"] if next_path else login_url
        if request.headers.get("HX-Request") == "true":
            return HttpResponseClientRedirect(target)
        return HttpResponseRedirect(target)

    @staticmethod
    def _safe_path(request, url: str) -> str:
        if not url or not url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return ""
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")
