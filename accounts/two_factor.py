"""Two-factor sign-in: a TOTP code (django-otp) after the password, and recovery codes.

Who must have it: everyone holding an admin grant, and everyone when
EARSHOT_TOTP_REQUIRED_FOR_ALL is on; anyone else may enrol. A person with a confirmed
device gives a code at every sign-in (accounts.views.LoginView, then login_code).

A session is verified when it holds the persistent id of the device that gave the code
(django-otp's session key). django-otp's own OTPMiddleware is not installed: it reads
the device row on every request, and list pages keep a fixed number of queries. The
session key is trusted instead, which is safe because removing or resetting a device
ends the person's other sessions (`totp_device_remove`).
"""

import re
from io import BytesIO

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.access import access_for
from governance.services import audit_event_record, client_ip

RECOVERY_CODE_COUNT = 10
DEVICE_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
_TOTP_CODE = re.compile(r"\d{6}")
_RECOVERY_CODE = re.compile(r"[a-z2-7]{8}")  # django-otp's static tokens: 5 random bytes in base32


# Rules


def totp_required(user) -> bool:
    """Whether `user` may use Earshot only after enrolling a TOTP device."""
    if not getattr(user, "is_authenticated", False):
        return False
    return settings.EARSHOT_TOTP_REQUIRED_FOR_ALL or access_for(user).is_admin


def totp_device(user, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=confirmed).order_by("-id").first()


def has_totp_device(user) -> bool:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def session_verified(session) -> bool:
    """Whether this session gave a second factor when it signed in (or enrolled)."""
    return isinstance(session.get(DEVICE_ID_SESSION_KEY), str)


def session_mark_verified(request, device) -> None:
    request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id


def normalised_code(text: str) -> str:
    """What the person typed, without spaces or dashes, lower case, at most 20 characters read."""
    return re.sub(r"[\s-]", "", (text or "")[:20]).lower()


def otpauth_url(device: TOTPDevice) -> str:
    return device.config_url


def secret_text(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it typed in: base32, in groups of four."""
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth URL as an inline SVG QR code, drawn here: no script, no image service."""
    import segno

    out = BytesIO()
    segno.make(otpauth_url(device), error="m").save(
        out, kind="svg", xmldecl=False, svgns=True, scale=5, border=4, title="QR code for your authenticator app",
        svgclass="qr", lineclass=None,
    )
    return out.getvalue().decode()


# Services


def totp_enrolment_start(*, user, ip: str | None = None) -> TOTPDevice:
    """The unconfirmed device this person is enrolling, made (and audited) on first visit."""
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()  # one pending device per person
        device = totp_device(user, confirmed=False)
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
            audit_event_record(action="totp.enrol", actor=user, obj=user, ip=ip, details={"user": user.get_username()})
    return device


def _recovery_codes_issue(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = set()
    while len(codes) < RECOVERY_CODE_COUNT:
        codes.add(StaticToken.random_token())
    codes = sorted(codes)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def totp_enrolment_confirm(*, request, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm `device` with a code from the app; returns the ten new recovery codes, or None if the code is wrong.

    1. Check the code against the pending device (django-otp throttles wrong codes).
    2. Mark it confirmed and drop any other device the person had.
    3. Issue ten recovery codes, replacing any earlier ones.
    4. Mark this session verified and audit it, in one transaction.
    """
    user = request.user
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=user, confirmed=False).first()
        if device is None or not _TOTP_CODE.fullmatch(code) or not device.verify_token(code):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = _recovery_codes_issue(user)
        audit_event_record(
            action="totp.confirm", actor=user, obj=user, ip=client_ip(request),
            details={"user": user.get_username(), "recovery_codes": len(codes)},
        )
    session_mark_verified(request, device)
    return codes


def recovery_codes_regenerate(*, user, ip: str | None = None) -> list[str]:
    """Ten new recovery codes for a person with a confirmed device; the old ones stop working."""
    with transaction.atomic():
        if not has_totp_device(user):
            raise ValueError("Set up an authenticator app first: recovery codes come with it.")
        codes = _recovery_codes_issue(user)
        audit_event_record(
            action="totp.recovery_codes_regenerate", actor=user, obj=user, ip=ip,
            details={"user": user.get_username(), "recovery_codes": len(codes)},
        )
    return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def totp_device_remove(*, user, actor, reason: str = "", ip: str | None = None, keep_session_key: str | None = None) -> int:
    """Remove `user`'s authenticator and recovery codes and end their sessions; returns devices removed.

    `actor` is the person themself, or an admin resetting someone who lost their phone
    (audited as a reset, with the reason). Their sessions end so no session stays
    verified by a device that no longer exists; a person removing their own keeps the
    session they did it from (`keep_session_key`), unverified.
    """
    from accounts.services import user_sessions_end

    with transaction.atomic():
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        action = "totp.remove" if actor.pk == user.pk else "totp.reset"
        details = {"user": user.get_username(), "devices": removed}
        if reason:
            details["reason"] = reason
        audit_event_record(action=action, actor=actor, obj=user, ip=ip, details=details)
        user_sessions_end(user=user, reason=action, actor=actor, ip=ip, keep_session_key=keep_session_key)
    return removed


class CodeRefused(Exception):
    """A sign-in or confirmation code that did not verify, with the message to show."""


def code_verify(*, request, user, code: str, allow_recovery: bool = True):
    """The device that accepts `code` for `user` (their TOTP device, or a recovery code).

    A wrong code counts as a failed sign-in (audited, and towards the lockout) and
    raises CodeRefused. A recovery code works once and its use is audited.
    """
    code = normalised_code(code)
    refusal = "That code is not right. Codes change every 30 seconds: use the newest one."
    with transaction.atomic():
        if _TOTP_CODE.fullmatch(code):
            device = TOTPDevice.objects.devices_for_user(user, confirmed=True).select_for_update().first()
        elif allow_recovery and _RECOVERY_CODE.fullmatch(code):
            device = StaticDevice.objects.devices_for_user(user, confirmed=True).select_for_update().first()
        else:
            device = None
        if device is not None:
            if not device.verify_is_allowed()[0]:
                refusal = "Too many wrong codes in a row: wait a moment, then try again."
            elif device.verify_token(code):
                if isinstance(device, StaticDevice):
                    audit_event_record(
                        action="totp.recovery_code_used", actor=user, obj=user, ip=client_ip(request),
                        details={"user": user.get_username(), "recovery_codes_left": device.token_set.count()},
                    )
                return device
    # After the transaction: django-otp's throttle count is saved whatever happens next.
    user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)
    raise CodeRefused(refusal)


# Middleware


def _exempt_paths() -> tuple[str, ...]:
    return (
        reverse("accounts:logout"),
        reverse("accounts:totp_enrol"),
        reverse("accounts:login"),
        reverse("healthz"),
        "/" + settings.STATIC_URL.lstrip("/"),
    )


class TwoFactorMiddleware:
    """Sends a signed-in person who must have TOTP but has not given a code to enrolment.

    Goes after SessionLimitsMiddleware. Someone with no confirmed device is sent to the
    enrolment page before anything else, except signing out and static files. Someone
    who has a device but whose session never gave a code (signed in before the
    requirement applied to them, say) is signed out, to sign in again with it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not session_verified(request.session)
            and not request.path.startswith(_exempt_paths())
            and totp_required(user)
        ):
            return self._refusal(request, user)
        return self.get_response(request)

    def _refusal(self, request, user):
        from django.contrib.auth import logout

        if has_totp_device(user):
            logout(request)
            messages.warning(request, "Sign in again with a code from your authenticator app.")
            target = reverse("accounts:login")
        else:
            target = reverse("accounts:totp_enrol")
        if request.headers.get("HX-Request") == "true":
            return HttpResponseClientRedirect(target)
        return HttpResponseRedirect(target)

