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
    """The client's address; behind a proxy, the last one it added to X-Forwarded-For."""
    from django.conf import settings

    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR") or None
