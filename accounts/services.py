from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import AccessGrant, Role, Team
from governance.services import audit_event_record


class AccessRefused(ValueError):
    """A grant the access list must not hold, with the reason to show the admin."""


def access_grant_create(
    *, user, team: Team, role: str, granted_by=None, reason: str = "", via: str = "", ip: str | None = None,
    expires_on: date | None = None,
) -> AccessGrant:
    """Add a line to the access list (or return the active one), with its audit row.

    Refuses an excluded person (with the reason they were excluded) and an expiry date
    that is not in the future. Granting counts as the line's first review.
    """
    if role not in Role.values:
        raise ValueError(f"{role!r} is not a role: use one of {', '.join(Role.values)}")
    if expires_on is not None and expires_on <= timezone.localdate():
        raise ValueError("The expiry date must be after today.")
    with transaction.atomic():
        # Locked so an exclusion made at the same moment cannot slip a grant past its check.
        person = type(user).objects.select_for_update().get(pk=user.pk)
        if person.is_excluded:
            raise AccessRefused(f"{person.get_username()} is excluded from Earshot: {person.excluded_reason}")
        # A line past its expiry date gives nothing already; close it so a new one can take its place.
        for stale in AccessGrant.objects.filter(
            user=user, team=team, role=role, revoked_at__isnull=True, expires_on__lte=timezone.localdate()
        ):
            access_grant_revoke(grant=stale, revoked_by=None, reason=f"Expired on {stale.expires_on:%Y-%m-%d}")
        grant, created = AccessGrant.objects.get_or_create(
            user=user, team=team, role=role, revoked_at__isnull=True,
            defaults={"granted_by": granted_by, "reason": reason, "expires_on": expires_on,
                      "confirmed_at": timezone.now(), "confirmed_by": granted_by},
        )
        if created:
            audit_event_record(
                action="access.grant", actor=granted_by, obj=grant, actor_label=via, ip=ip,
                details={"user": user.get_username(), "team": team.name, "role": role, "reason": reason,
                         "expires_on": expires_on.isoformat() if expires_on else None},
            )
    return grant


def access_grant_revoke(*, grant: AccessGrant, revoked_by, reason: str = "", ip: str | None = None) -> bool:
    """Revoke an active grant, keeping its line in the list. False if it was already revoked.

    `revoked_by` is None when the system revokes (expiry, exclusion): the audit row then says "system".
    """
    with transaction.atomic():
        revoked = AccessGrant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=revoked_by, revoke_reason=reason[:300]
        )
        if revoked:
            grant.refresh_from_db(fields=["revoked_at", "revoked_by", "revoke_reason"])
            details = {"user": grant.user.get_username(), "team": grant.team.name, "role": grant.role}
            if reason:  # Django admin's bulk action revokes without one
                details["reason"] = reason
            audit_event_record(action="access.revoke", actor=revoked_by, obj=grant, ip=ip, details=details)
    return bool(revoked)


def access_grant_confirm(*, grant: AccessGrant, confirmed_by, ip: str | None = None) -> bool:
    """Record an admin's review that an active grant is still needed. False if it is no longer active."""
    with transaction.atomic():
        now = timezone.now()
        confirmed = AccessGrant.objects.active().filter(pk=grant.pk).update(confirmed_at=now, confirmed_by=confirmed_by)
        if confirmed:
            grant.refresh_from_db(fields=["confirmed_at", "confirmed_by"])
            audit_event_record(
                action="access.confirm", actor=confirmed_by, obj=grant, ip=ip,
                details={"user": grant.user.get_username(), "team": grant.team.name, "role": grant.role},
            )
    return bool(confirmed)


def access_grants_expire(*, today: date | None = None) -> int:
    """Revoke every grant whose expiry date has come, each with its own audit row; returns how many."""
    today = today or timezone.localdate()
    expired = 0
    for grant in AccessGrant.objects.filter(revoked_at__isnull=True, expires_on__lte=today).select_related("user", "team"):
        expired += access_grant_revoke(grant=grant, revoked_by=None, reason=f"Expired on {grant.expires_on:%Y-%m-%d}")
    return expired


def user_exclude(*, user, reason: str, excluded_by, ip: str | None = None) -> int:
    """Mark `user` as someone who must never hold access, revoking what they hold; returns grants revoked."""
    reason = reason.strip()
    if not reason:
        raise ValueError("Give the reason this person is excluded.")
    with transaction.atomic():
        person = type(user).objects.select_for_update().get(pk=user.pk)
        if person.is_excluded:
            raise ValueError(f"{person.get_username()} is already excluded.")
        person.excluded_at, person.excluded_reason, person.excluded_by = timezone.now(), reason[:300], excluded_by
        person.save(update_fields=["excluded_at", "excluded_reason", "excluded_by"])
        user.excluded_at, user.excluded_reason, user.excluded_by = person.excluded_at, person.excluded_reason, excluded_by
        audit_event_record(
            action="access.exclude", actor=excluded_by, obj=person, ip=ip,
            details={"user": person.get_username(), "reason": reason},
        )
        revoked = 0
        for grant in AccessGrant.objects.filter(user=person, revoked_at__isnull=True).select_related("team"):
            revoked += access_grant_revoke(grant=grant, revoked_by=excluded_by, reason=f"Excluded: {reason}", ip=ip)
    return revoked


def user_exclusion_lift(*, user, reason: str, lifted_by, ip: str | None = None) -> None:
    """Let an excluded person be granted access again. Grants revoked by the exclusion stay revoked."""
    reason = reason.strip()
    if not reason:
        raise ValueError("Give the reason the exclusion is lifted.")
    with transaction.atomic():
        person = type(user).objects.select_for_update().get(pk=user.pk)
        if not person.is_excluded:
            raise ValueError(f"{person.get_username()} is not excluded.")
        was = person.excluded_reason
        person.excluded_at, person.excluded_reason, person.excluded_by = None, "", None
        person.save(update_fields=["excluded_at", "excluded_reason", "excluded_by"])
        audit_event_record(
            action="access.exclusion_lifted", actor=lifted_by, obj=person, ip=ip,
            details={"user": person.get_username(), "reason": reason, "excluded_for": was},
        )


def access_review_due(*, now) -> list[dict]:
    """Active grants whose review falls within the notice period or has passed, most overdue first."""
    from django.conf import settings

    period = timedelta(days=settings.EARSHOT_ACCESS_REVIEW_DAYS)
    notice = timedelta(days=settings.EARSHOT_ACCESS_REVIEW_NOTICE_DAYS)
    due = []
    for grant in AccessGrant.objects.active().select_related("user", "team", "confirmed_by"):
        deadline = grant.last_confirmed_at + period
        if deadline <= now + notice:
            due.append({"grant": grant, "deadline": deadline, "overdue": deadline <= now})
    return sorted(due, key=lambda row: row["deadline"])


def team_get_or_create(*, name: str) -> Team:
    team = Team.objects.filter(name__iexact=name).first()
    return team or Team.objects.create(name=name, slug=slugify(name)[:60] or "team")


def user_sessions_end(
    *, user, reason: str, actor=None, ip: str | None = None, keep_session_key: str | None = None
) -> int:
    """Delete every stored session of `user` (but `keep_session_key`), with an audit row; returns how many ended.

    Sessions live in the database (SESSION_ENGINE) and hold the user id only inside their
    encoded data, so each unexpired session is decoded to find the user's. That reads the
    whole table, which is small for one body's staff and is done only when an account is
    deactivated.
    """
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import SESSION_KEY

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    session_model = store_class.get_model_class()
    ended = 0
    with transaction.atomic():
        for session in session_model.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=500):
            if session.session_key == keep_session_key:
                continue
            if str(session.get_decoded().get(SESSION_KEY)) == str(user.pk):
                # Through the store, so a cache in front of the table forgets it too.
                store_class(session_key=session.session_key).delete()
                ended += 1
        audit_event_record(
            action="session.forced_sign_out", actor=actor, obj=user, ip=ip,
            details={"user": user.get_username(), "reason": reason, "sessions_ended": ended},
        )
    return ended
