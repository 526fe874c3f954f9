"""Adding and changing channels (feeds, the organisation's own accounts, X lists)."""

from django.db import transaction
from django.utils import timezone

from listening.models import Channel


def channel_save(*, form, actor, ip: str | None = None) -> Channel:
    """Save a validated ChannelForm, audited.

    A channel that now reads something else (another platform, channel string or
    instance) starts again from an empty cursor; it, and a new or re-enabled channel,
    is due at once.
    """
    from governance.services import audit_event_record

    with transaction.atomic():
        created = form.instance.pk is None
        before = None if created else Channel.objects.select_for_update().get(pk=form.instance.pk)
        channel = form.save(commit=False)
        if before is not None and (before.platform, before.channel, before.base_url) != (
            channel.platform,
            channel.channel,
            channel.base_url,
        ):
            # A run in flight loses its claim, so it cannot store the old channel's cursor here.
            channel.cursor, channel.notes, channel.claim_token, channel.claimed_at = {}, [], None, None
            channel.next_run_at = timezone.now()
        if created or (channel.enabled and not before.enabled):
            channel.next_run_at = timezone.now()
        channel.save()
        audit_event_record(
            action="channel.create" if created else "channel.update",
            actor=actor,
            obj=channel,
            ip=ip,
            details={
                "platform": channel.platform,
                "channel": channel.channel,
                "base_url": channel.base_url,
                "enabled": channel.enabled,
                "interval_minutes": channel.interval_minutes,
                "changed": sorted(form.changed_data),
            },
        )
    return channel
