"""Harvesting and saved searches: the entry points tasks and views call.

The machinery lives in `listening.harvest` (claims and the page loop, shared by
search harvests and channels) and `listening.dispatch` (what starts when, within
each platform's shared request budget and monthly spend).
"""

import hashlib
import uuid
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from listening import harvest
from listening.dispatch import Claim, harvest_dispatch_due
from listening.models import HarvestRun, SavedSearch, SavedSearchPlatform

__all__ = [
    "Claim",
    "channel_claim",
    "channel_harvest_run",
    "harvest_claim",
    "harvest_dispatch_due",
    "harvest_kind_run",
    "harvest_run",
    "saved_search_archive",
    "saved_search_restore",
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
    """Save a validated SavedSearchForm, keep its platform rows in step, and audit it.

    The event names the fields the form changed. An archived search stays disabled:
    it is restored first (saved_search_restore), then enabled.
    """
    from governance.services import audit_event_record

    with transaction.atomic():
        created = form.instance.pk is None
        search = form.save(commit=False)
        if search.archived_at is not None and search.enabled:
            raise ValueError("An archived saved search cannot be enabled; restore it first.")
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
            details={
                # A query may name a person (from:handle); the audit log is never edited, so it
                # keeps a fingerprint that proves what the query was, not the query itself.
                "query_sha256": hashlib.sha256(search.query.encode("utf-8")).hexdigest(),
                "platforms": sorted(wanted),
                "enabled": search.enabled,
                "fields": sorted(form.changed_data),
            },
        )
    return search


def saved_search_archive(*, saved_search: SavedSearch, actor, ip: str | None = None) -> SavedSearch:
    """Archive a saved search: what deleting one means, so its history survives.

    It stops harvesting (disabled) and leaves the lists, while its mentions, hits
    and harvest runs stay until retention removes them. Archiving twice does nothing.
    """
    from governance.services import audit_event_record

    with transaction.atomic():
        search = SavedSearch.objects.select_for_update().get(pk=saved_search.pk)
        if search.archived_at is None:
            was_enabled = search.enabled
            search.archived_at, search.enabled = timezone.now(), False
            search.save(update_fields=["archived_at", "enabled", "updated_at"])
            audit_event_record(
                action="saved_search.archive", actor=actor, obj=search, ip=ip,
                details={"was_enabled": was_enabled, "hits_kept": search.hits.count(), "runs_kept": search.runs.count()},
            )
    saved_search.archived_at, saved_search.enabled = search.archived_at, search.enabled
    return search


def saved_search_restore(*, saved_search: SavedSearch, actor, ip: str | None = None) -> SavedSearch:
    """Bring an archived saved search back to the lists, still disabled until someone enables it."""
    from governance.services import audit_event_record

    with transaction.atomic():
        search = SavedSearch.objects.select_for_update().get(pk=saved_search.pk)
        if search.archived_at is not None:
            archived_at = search.archived_at
            search.archived_at = None
            search.save(update_fields=["archived_at", "updated_at"])
            audit_event_record(
                action="saved_search.restore", actor=actor, obj=search, ip=ip,
                details={"archived_at": archived_at.isoformat()},
            )
    saved_search.archived_at = search.archived_at
    return search
