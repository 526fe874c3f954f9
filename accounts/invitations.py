"""Inviting a new person by email, with a one-time set-password link that expires.

The link's token is Django's password-reset token under its own salt: it is made from
the person's id, password hash, last sign-in and email, so it stops working as soon as
a password is set (the link works once), and it is refused after
EARSHOT_INVITATION_DAYS. Nothing secret is stored: the email task makes the token.

An invitation not yet accepted is listed on the invite page (`pending_invitations`): it
can be sent again, which emails a fresh link valid for the full period (an earlier link
keeps working until its own expiry, as it goes to the same address), or withdrawn, which
deactivates the account and revokes its grants, so no link works any more. Both are
audited.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

from accounts.models import AccessGrant
from accounts.services import access_grant_create, access_grant_revoke
from governance.models import AuditEvent
from governance.services import audit_event_record

_SENT = ("invitation.send", "invitation.resend")


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


@dataclass(frozen=True)
class PendingInvitation:
    user: object
    sent_at: datetime
    sent_by: str
    expires_at: datetime
    times_sent: int

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()


def _pending(users):
    """Active people who have never set a password."""
    return users.filter(is_active=True, password__startswith=UNUSABLE_PASSWORD_PREFIX)


def pending_invitations() -> list[PendingInvitation]:
    """Invitations not yet accepted, newest sent first, with when each link stops working.

    Two queries however many there are: the people, then every send of theirs from the
    audit log.
    """
    people = {str(user.pk): user for user in _pending(get_user_model().objects.all())}
    sends: dict[str, list] = {}
    for event in (
        AuditEvent.objects.filter(action__in=_SENT, object_type="accounts.user", object_id__in=list(people))
        .order_by("at", "id").only("at", "actor_label", "object_id")
    ):
        sends.setdefault(event.object_id, []).append(event)
    lifetime = timedelta(days=settings.EARSHOT_INVITATION_DAYS)
    found = [
        PendingInvitation(user=people[pk], sent_at=events[-1].at, sent_by=events[-1].actor_label,
                          expires_at=events[-1].at + lifetime, times_sent=len(events))
        for pk, events in sends.items()
    ]
    return sorted(found, key=lambda invitation: invitation.sent_at, reverse=True)


def _pending_locked(user):
    person = _pending(type(user).objects.select_for_update()).filter(pk=user.pk).first()
    if person is None:
        raise ValueError(f"{user.get_username()} has no invitation waiting: they have set a password, or it was withdrawn.")
    return person


def invitation_resend(*, user, resent_by, ip: str | None = None) -> None:
    """Email the person a fresh link, valid for the full period again."""
    with transaction.atomic():
        person = _pending_locked(user)
        if not person.email:
            raise ValueError(f"{person.get_username()} has no email address to send the invitation to.")
        audit_event_record(
            action="invitation.resend", actor=resent_by, obj=person, ip=ip,
            details={"user": person.get_username(), "email": person.email, "valid_days": settings.EARSHOT_INVITATION_DAYS},
        )
        transaction.on_commit(lambda: _queue(person.pk))


def invitation_withdraw(*, user, withdrawn_by, reason: str, ip: str | None = None) -> int:
    """Deactivate an invited person who has not accepted, revoking their grants; returns grants revoked.

    Every link they were sent stops working: a link only serves an active account.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("Give the reason the invitation is withdrawn.")
    if len(reason) > 300:
        raise ValueError("The reason can be at most 300 characters. Nothing was changed.")
    with transaction.atomic():
        person = _pending_locked(user)
        person.is_active = False
        person.save(update_fields=["is_active"])
        audit_event_record(
            action="invitation.withdraw", actor=withdrawn_by, obj=person, ip=ip,
            details={"user": person.get_username(), "email": person.email, "reason": reason},
        )
        revoked = 0
        for grant in AccessGrant.objects.filter(user=person, revoked_at__isnull=True).select_related("team", "user"):
            revoked += access_grant_revoke(
                grant=grant, revoked_by=withdrawn_by, reason=f"Invitation withdrawn: {reason}", ip=ip
            )
    return revoked
