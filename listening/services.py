"""Harvesting and saved searches: the entry points tasks and views call.

The machinery lives in `listening.harvest` (claims and the page loop, shared by
search harvests and channels) and `listening.dispatch` (what starts when, within
each platform's shared request budget and monthly spend).
"""

import uuid
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from listening import harvest
from listening.dispatch import Claim, harvest_dispatch_due
from listening.models import HarvestRun, SavedSearchPlatform

__all__ = [
    "Claim",
    "channel_claim",
    "channel_harvest_run",
    "harvest_claim",
    "harvest_dispatch_due",
    "harvest_kind_run",
    "harvest_run",
    "saved_search_save",
]


def harvest_claim(*, state_id: int, now: datetime | None = None) -> uuid.UUID | None:
    """Claim one due (saved search, platform) pair. None if someone else has it or it is not due."""
    return harvest.claim(harvest.SEARCH, state_id, now=now)


def channel_claim(*, channel_id: int, now: datetime | None = None) -> uuid.UUID | None:
    """Claim one due channel. None if someone else has it or it is not due."""
    return harvest.claim(harvest.CHANNEL, channel_id, now=now)


def harvest_run(
    *, state_id: int, token: uuid.UUID, max_pages: int | None = None, source=None, clock=timezone.now
) -> HarvestRun | None:
    """Run one claimed search harvest; see `listening.harvest.run`."""
    return harvest.run(harvest.SEARCH, pk=state_id, token=token, max_pages=max_pages, source=source, clock=clock)


def channel_harvest_run(
    *, channel_id: int, token: uuid.UUID, max_pages: int | None = None, source=None, clock=timezone.now
) -> HarvestRun | None:
    """Run one claimed channel harvest; see `listening.harvest.run`."""
    return harvest.run(harvest.CHANNEL, pk=channel_id, token=token, max_pages=max_pages, source=source, clock=clock)


def harvest_kind_run(*, kind: str, pk: int, token: uuid.UUID, source=None, clock=timezone.now) -> HarvestRun | None:
    """Run a claim of either kind, as `Claim.kind` names it."""
    return harvest.run(harvest.KINDS[kind], pk=pk, token=token, source=source, clock=clock)


def saved_search_save(*, form, actor, ip: str | None = None):
    """Save a validated SavedSearchForm, keep its platform rows in step, and audit it."""
    from governance.services import audit_event_record

    with transaction.atomic():
        created = form.instance.pk is None
        search = form.save(commit=False)
        if created:
            search.owner = actor
        search.save()
        wanted = set(form.cleaned_data["platforms"])
        SavedSearchPlatform.objects.filter(saved_search=search).exclude(platform__in=wanted).delete()
        for platform in wanted:
            SavedSearchPlatform.objects.get_or_create(saved_search=search, platform=platform)
        audit_event_record(
            action="saved_search.create" if created else "saved_search.update",
            actor=actor,
            obj=search,
            ip=ip,
            details={"query": search.query, "platforms": sorted(wanted), "enabled": search.enabled},
        )
    return search
