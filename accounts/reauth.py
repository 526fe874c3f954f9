"""Re-authentication before sensitive actions.

Granting or revoking access, changing platform credentials, erasing a person's data
and changing retention ask for the password again when it was last given more than
EARSHOT_REAUTH_MINUTES ago. Signing in counts as giving it.

`recent_auth_required` wraps a view. A stale GET is sent to the confirmation page and
comes back afterwards. A stale POST changes nothing: it cannot be replayed safely, so
the officer is sent to confirm and then back to the page the form was on, with a
message saying the action was not carried out.
"""

from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django_htmx.http import HttpResponseClientRedirect

from accounts import middleware

AUTHENTICATED_AT_KEY = "earshot_authenticated_at"
NOT_DONE_MESSAGE = "Confirm it is you to continue. Nothing was changed: repeat the action once you have confirmed."


def authenticated_at(session) -> int | None:
    """When the password (or a second factor) was last given in this session, in seconds."""
    moment = session.get(AUTHENTICATED_AT_KEY, session.get(middleware.STARTED_KEY))
    return moment if isinstance(moment, int) else None


def authentication_recent(session) -> bool:
    moment = authenticated_at(session)
    return moment is not None and middleware.now() - moment < settings.EARSHOT_REAUTH_MINUTES * 60


def authentication_renewed(session) -> None:
    session[AUTHENTICATED_AT_KEY] = middleware.now()


def safe_next(request, url: str) -> str:
    """`url` as a local path, or "" when it points anywhere else."""
    if not url or not url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def recent_auth_required(view):
    """Let `view` run only when the password was given within EARSHOT_REAUTH_MINUTES."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated or authentication_recent(request.session):
            return view(request, *args, **kwargs)
        is_htmx = request.headers.get("HX-Request") == "true"
        if request.method in ("GET", "HEAD"):
            next_path = request.get_full_path()
        else:
            messages.warning(request, NOT_DONE_MESSAGE)
            came_from = request.headers.get("HX-Current-URL", "") if is_htmx else request.headers.get("Referer", "")
            next_path = safe_next(request, came_from)
        target = reverse("accounts:reauth")
        if next_path:
            target += "?" + urlencode({"next": next_path})
        if is_htmx:
            return HttpResponseClientRedirect(target)
        return HttpResponseRedirect(target)

    wrapped.earshot_recent_auth = True
    return wrapped
