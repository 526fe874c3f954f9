"""Changing a retention policy: the days an admin typed, checked, saved and audited."""

from django.db import transaction

from governance.models import RetentionPolicy
from governance.services import audit_event_record


class RetentionChangeRejected(ValueError):
    """The new number of days cannot be saved; the message says why."""


def retention_days_parse(raw) -> int:
    """The days an admin typed, or RetentionChangeRejected with a message saying what is allowed."""
    text = (raw or "").strip() if isinstance(raw, str) else ""
    allowed = f"Give a whole number of days from {RetentionPolicy.MIN_DAYS} to {RetentionPolicy.MAX_DAYS:,}."
    if not text:
        raise RetentionChangeRejected(allowed)
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise RetentionChangeRejected(f"“{shown}” is not a number of days the policy can keep. {allowed}")
    days = int(text)
    if not RetentionPolicy.MIN_DAYS <= days <= RetentionPolicy.MAX_DAYS:
        raise RetentionChangeRejected(f"{days:,} days is out of range. {allowed}")
    return days


def retention_policy_change(*, policy: RetentionPolicy, days: int, actor, ip: str | None = None) -> RetentionPolicy:
    """Save a policy's new days and audit the change (old and new) in one transaction."""
    if not RetentionPolicy.MIN_DAYS <= days <= RetentionPolicy.MAX_DAYS:
        raise RetentionChangeRejected(f"Give a whole number of days from {RetentionPolicy.MIN_DAYS} to {RetentionPolicy.MAX_DAYS:,}.")
    with transaction.atomic():
        locked = RetentionPolicy.objects.select_for_update().get(pk=policy.pk)
        old = locked.days
        if old == days:
            raise RetentionChangeRejected(f"The policy already keeps {days:,} days; nothing was changed.")
        locked.days, locked.updated_by = days, actor
        locked.save(update_fields=["days", "updated_by", "updated_at"])
        audit_event_record(
            action="retention.change", actor=actor, obj=locked, ip=ip,
            details={"category": locked.category, "old_days": old, "new_days": days},
        )
    return locked
