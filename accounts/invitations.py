"""Inviting a new person by email, with a one-time set-password link that expires.

The link's token is Django's password-reset token under its own salt: it is made from
the person's id, password hash, last sign-in and email, so it stops working as soon as
a password is set (the link works once), and it is refused after
EARSHOT_INVITATION_DAYS. Nothing secret is stored: the email task makes the token.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

from accounts.services import access_grant_create
from governance.services import audit_event_record


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "earshot.accounts.invitations.InvitationTokenGenerator"

    def check_token(self, user, token):
        """Django's check, with the invitation's own lifetime instead of PASSWORD_RESET_TIMEOUT."""
        if not (user and token) or not isinstance(token, str) or len(token) > 100:
            return False
        try:
            ts_b36, _ = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        return self._num_seconds(self._now()) - ts <= settings.EARSHOT_INVITATION_DAYS * 24 * 3600


invitation_tokens = InvitationTokenGenerator()


def invitation_url(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("accounts:invitation_accept", kwargs={"uidb64": uid, "token": invitation_tokens.make_token(user)})
    return f"{settings.EARSHOT_BASE_URL}{path}"


def invited_user(uidb64: str):
    """The person an invitation link names, or None."""
    try:
        pk = int(urlsafe_base64_decode(uidb64[:40]).decode())
    except (ValueError, UnicodeDecodeError, OverflowError):
        return None
    if pk <= 0 or pk > 2**63 - 1:
        return None
    return get_user_model().objects.filter(pk=pk, is_active=True).first()


def user_invite(
    *, username: str, email: str, invited_by, first_name: str = "", last_name: str = "",
    team=None, role: str = "", reason: str = "", ip: str | None = None,
):
    """Create the person (no usable password yet), grant their first access if given, and email the link.

    The email goes after the transaction commits, from a worker.
    """
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username=username, email=email, first_name=first_name, last_name=last_name, password=None,
        )
        audit_event_record(
            action="invitation.send", actor=invited_by, obj=user, ip=ip,
            details={"user": username, "email": email, "team": team.name if team else None, "role": role or None,
                     "valid_days": settings.EARSHOT_INVITATION_DAYS},
        )
        if team is not None and role:
            access_grant_create(user=user, team=team, role=role, reason=reason, granted_by=invited_by, ip=ip)
        user_id = user.pk
        transaction.on_commit(lambda: _queue(user_id))
    return user


def _queue(user_id: int) -> None:
    from accounts.tasks import send_invitation_email

    send_invitation_email.delay(user_id)


def invitation_email_send(*, user_id: int) -> bool:
    """Send the invitation to a person who has not yet set a password; False if there is nothing to send."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.has_usable_password() or not user.email:
        return False
    from triage.mail import plain_escaped

    context = {
        "name": plain_escaped(user.get_full_name() or user.get_username()),
        "username": plain_escaped(user.get_username()),
        "link": invitation_url(user),
        "days": settings.EARSHOT_INVITATION_DAYS,
    }
    EmailMessage(
        subject="You are invited to Earshot", body=render_to_string("accounts/email/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email], headers={"Auto-Submitted": "auto-generated"},
    ).send()
    return True


def invitation_accept(*, user, token: str, password: str, ip: str | None = None) -> bool:
    """Set the invited person's first password; False if the link is no longer good.

    The token is checked again under the row lock, so two tabs cannot both use it: the
    first changes the password hash, which the token covers.
    """
    with transaction.atomic():
        person = type(user).objects.select_for_update().get(pk=user.pk)
        if not invitation_tokens.check_token(person, token):
            return False
        person.set_password(password)
        person.save(update_fields=["password"])
        audit_event_record(action="invitation.accept", actor=person, obj=person, ip=ip,
                           details={"user": person.get_username()})
    return True
