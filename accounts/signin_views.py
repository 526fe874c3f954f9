"""The code step of signing in, and each person's own two-factor pages (accounts/two_factor.py)."""

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import urlencode
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import middleware
from accounts.reauth import recent_auth_required, safe_next
from accounts.two_factor import (
    CodeRefused,
    code_verify,
    has_totp_device,
    normalised_code,
    qr_svg,
    recovery_codes_left,
    recovery_codes_regenerate,
    secret_text,
    session_mark_verified,
    totp_device,
    totp_device_remove,
    totp_enrolment_confirm,
    totp_enrolment_start,
    totp_required,
)
from governance.services import client_ip

# Between the password and the code the session holds who gave the password, with
# which backend, when, and how many wrong codes followed. Nobody is signed in yet.
PENDING_KEY = "earshot_sign_in_pending"
PENDING_MAX_TRIES = 5


def sign_in_pending_start(request, user) -> None:
    request.session[PENDING_KEY] = {"user": user.pk, "backend": user.backend, "at": middleware.now(), "tries": 0}


def _pending(request):
    """The pending sign-in's person and record, or (None, None) when there is none in time."""
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None, None
    fresh = isinstance(pending.get("at"), int) and middleware.now() - pending["at"] < settings.EARSHOT_SIGN_IN_CODE_MINUTES * 60
    backend_known = pending.get("backend") in settings.AUTHENTICATION_BACKENDS
    user = get_user_model().objects.filter(pk=pending.get("user"), is_active=True).first() if fresh and backend_known else None
    if user is None:
        del request.session[PENDING_KEY]
        return None, None
    return user, pending


def _back_to_password(request, next_path: str, message: str):
    request.session.pop(PENDING_KEY, None)
    messages.warning(request, message)
    target = resolve_url(settings.LOGIN_URL)
    return redirect(target + ("?" + urlencode({"next": next_path}) if next_path else ""))


def _onwards(next_path: str):
    # `next` is a path already made safe; only the default is a URL name.
    return HttpResponseRedirect(next_path) if next_path else redirect(settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters("code")
def login_code(request):
    """Second step of signing in: a code from the authenticator app, or a recovery code."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    next_path = safe_next(request, request.POST.get("next") or request.GET.get("next", ""))
    if request.user.is_authenticated:
        return _onwards(next_path)
    user, pending = _pending(request)
    if user is None:
        return _back_to_password(request, next_path, "Sign in with your password first; a code is asked for after it.")
    error = ""
    if request.method == "POST":
        credentials = {"username": user.get_username()}
        if AxesProxyHandler.is_locked(request, credentials=credentials):
            request.session.pop(PENDING_KEY, None)
            return get_lockout_response(request, credentials=credentials)
        try:
            device = code_verify(request=request, user=user, code=request.POST.get("code", ""))
        except CodeRefused as refusal:
            pending["tries"] = pending.get("tries", 0) + 1
            if pending["tries"] >= PENDING_MAX_TRIES:
                return _back_to_password(request, next_path, "Too many wrong codes. Sign in again.")
            request.session[PENDING_KEY] = pending
            error = str(refusal)
        else:
            del request.session[PENDING_KEY]
            user.backend = pending["backend"]
            auth_login(request, user)
            session_mark_verified(request, device)
            if isinstance(device, StaticDevice):
                left = recovery_codes_left(user)
                messages.warning(
                    request, f"You signed in with a recovery code; it will not work again. {left} left: "
                    "make new ones on the Two-factor page if you are running short.",
                )
            return _onwards(next_path)
    return render(request, "accounts/login_code.html", {"next": next_path, "error": error}, status=400 if error else 200)


@login_required
def two_factor(request):
    """A person's own two-factor sign-in: whether it is set up and required, recovery codes left."""
    device = totp_device(request.user)
    return render(request, "accounts/two_factor.html", {
        "device": device,
        "required": totp_required(request.user),
        "codes_left": recovery_codes_left(request.user) if device else 0,
    })


def _enrol_page(request, device, *, error="", status=200):
    return render(request, "accounts/totp_enrol.html", {
        "device": device,
        "qr": qr_svg(device) if device else "",
        "secret": secret_text(device) if device else "",
        "required": totp_required(request.user),
        "error": error,
    }, status=status)


@sensitive_post_parameters("code")
@login_required
def totp_enrol(request):
    """Set up an authenticator app: start (audited), scan the QR code or type the secret, confirm with a code.

    Reachable before anything else for someone who must have two-factor sign-in but
    has not set it up (TwoFactorMiddleware sends them here).
    """
    if has_totp_device(request.user):
        messages.info(request, "Your authenticator app is already set up. Remove it first to set up another.")
        return redirect("accounts:two_factor")
    if request.method in ("GET", "HEAD"):
        return _enrol_page(request, totp_device(request.user, confirmed=False))
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.POST.get("confirm") == "start":
        totp_enrolment_start(user=request.user, ip=client_ip(request))
        return redirect("accounts:totp_enrol")
    device = totp_device(request.user, confirmed=False)
    if device is None:
        return HttpResponseBadRequest("Use the Start button to set up an authenticator app.", content_type="text/plain")
    codes = totp_enrolment_confirm(request=request, device=device, code=normalised_code(request.POST.get("code", "")))
    if codes is None:
        return _enrol_page(request, device, status=400,
                           error="That code is not right. Enter the 6-digit code your app shows now.")
    messages.success(request, "Two-factor sign-in is set up. From now on you give a code after your password.")
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@require_POST
@login_required
@recent_auth_required
def recovery_codes(request):
    """Ten new recovery codes, shown once; the old ones stop working."""
    if request.POST.get("confirm") != "regenerate":
        return HttpResponseBadRequest("Use the button to make new recovery codes.", content_type="text/plain")
    try:
        codes = recovery_codes_regenerate(user=request.user, ip=client_ip(request))
    except ValueError as refusal:
        messages.error(request, str(refusal))
        return redirect("accounts:two_factor")
    messages.success(request, "New recovery codes: the old ones no longer work.")
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@require_POST
@login_required
@recent_auth_required
def totp_remove(request):
    """Remove one's own authenticator (a new phone, say); signs out every other session."""
    if request.POST.get("confirm") != "remove":
        return HttpResponseBadRequest("Use the Remove button to remove your authenticator app.", content_type="text/plain")
    if not has_totp_device(request.user):
        messages.info(request, "You have no authenticator app set up; nothing was removed.")
        return redirect("accounts:two_factor")
    totp_device_remove(user=request.user, actor=request.user, ip=client_ip(request),
                       keep_session_key=request.session.session_key)
    from django_otp import DEVICE_ID_SESSION_KEY

    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    if totp_required(request.user):
        messages.warning(request, "Authenticator removed. Set up a new one now: your access needs it.")
    else:
        messages.success(request, "Authenticator removed. You now sign in with your password alone.")
    return redirect("accounts:two_factor")
