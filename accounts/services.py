from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import AccessGrant, Role, Team
from governance.services import audit_event_record


def access_grant_create(
    *, user, team: Team, role: str, granted_by=None, reason: str = "", via: str = "", ip: str | None = None
) -> AccessGrant:
    """Add a line to the access list (or return the active one), with its audit row."""
    if role not in Role.values:
        raise ValueError(f"{role!r} is not a role: use one of {', '.join(Role.values)}")
    with transaction.atomic():
        grant, created = AccessGrant.objects.get_or_create(
            user=user, team=team, role=role, revoked_at__isnull=True,
            defaults={"granted_by": granted_by, "reason": reason},
        )
        if created:
            audit_event_record(
                action="access.grant", actor=granted_by, obj=grant, actor_label=via, ip=ip,
                details={"user": user.get_username(), "team": team.name, "role": role, "reason": reason},
            )
    return grant


def access_grant_revoke(*, grant: AccessGrant, revoked_by, ip: str | None = None) -> bool:
    """Revoke an active grant, keeping its line in the list. False if it was already revoked."""
    with transaction.atomic():
        revoked = AccessGrant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=revoked_by
        )
        if revoked:
            grant.refresh_from_db(fields=["revoked_at", "revoked_by"])
            audit_event_record(
                action="access.revoke", actor=revoked_by, obj=grant, ip=ip,
                details={"user": grant.user.get_username(), "team": grant.team.name, "role": grant.role},
            )
    return bool(revoked)


def team_get_or_create(*, name: str) -> Team:
    team = Team.objects.filter(name__iexact=name).first()
    return team or Team.objects.create(name=name, slug=slugify(name)[:60] or "team")


def user_sessions_end(*, user, reason: str, actor=None, ip: str | None = None) -> int:
    """Delete every stored session of `user`, with an audit row; returns how many ended.

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
            if str(session.get_decoded().get(SESSION_KEY)) == str(user.pk):
                # Through the store, so a cache in front of the table forgets it too.
                store_class(session_key=session.session_key).delete()
                ended += 1
        audit_event_record(
            action="session.forced_sign_out", actor=actor, obj=user, ip=ip,
            details={"user": user.get_username(), "reason": reason, "sessions_ended": ended},
        )
    return ended
