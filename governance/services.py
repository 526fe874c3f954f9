import ipaddress

from django.db import models

from governance.models import AuditEvent


def audit_event_record(
    *,
    action: str,
    actor=None,
    obj: models.Model | None = None,
    ip: str | None = None,
    details: dict | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Write one audit row. Call it inside the transaction of the action it records."""
    return AuditEvent.objects.create(
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor_label or (actor.get_username() if actor is not None and actor.is_authenticated else "system"),
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:300] if obj is not None else "",
        ip=ip,
        details=details or {},
    )


def client_ip(request) -> str | None:
    """The client's address, as both the audit log and the login lockout see it.

    Without BEHIND_PROXY it is the connecting address and X-Forwarded-For is ignored:
    anyone can send that header. Behind TRUSTED_PROXY_COUNT proxies, each proxy appends
    the address that connected to it, so the right-most N entries are theirs and the
    left-most of those, written by the outermost proxy, is the client. Anything further
    left came from the client itself and is never used. A header with fewer entries
    than proxies, or an entry that is not an address, did not come through every
    proxy: the connecting address is used instead.
    """
    from django.conf import settings

    remote = _address_or_none(request.META.get("REMOTE_ADDR", ""))
    if not settings.BEHIND_PROXY:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    count = settings.TRUSTED_PROXY_COUNT
    if len(forwarded) < count:
        return remote
    return _address_or_none(forwarded[-count]) or remote


def _address_or_none(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None
