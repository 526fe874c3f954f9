"""Harvesting: claiming due (saved search, platform) pairs and running them page by page."""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from listening.ingest import page_ingest
from listening.models import HarvestRun, SavedSearch, SavedSearchPlatform
from listening.query import QuerySyntaxError, parse
from listening.sources import HarvestError, RateLimited, get_source

log = logging.getLogger(__name__)


def harvest_claim(*, state_id: int, now=None) -> uuid.UUID | None:
    """Claim one due pair with a conditional UPDATE. None if someone else has it or it is not due."""
    now = now or timezone.now()
    token = uuid.uuid4()
    # Conditions on the row itself (plus EXISTS), never a join: an UPDATE with a join
    # becomes `id IN (subquery)`, which PostgreSQL does not re-check after waiting on
    # another claimer's lock, and both would win.
    enabled = Exists(SavedSearch.objects.filter(pk=OuterRef("saved_search_id"), enabled=True))
    claimed = (
        SavedSearchPlatform.objects.filter(enabled, pk=state_id, next_run_at__lte=now)
        .update(next_run_at=now + SavedSearchPlatform.CLAIM_LEASE, claim_token=token, claimed_at=now)
    )
    return token if claimed == 1 else None


def harvest_dispatch_due(*, now=None) -> list[tuple[int, uuid.UUID]]:
    """Claim every due pair; the caller enqueues a harvest for each claim it won."""
    now = now or timezone.now()
    due = SavedSearchPlatform.objects.filter(next_run_at__lte=now, saved_search__enabled=True).values_list("id", flat=True)
    claims = []
    for state_id in due:
        token = harvest_claim(state_id=state_id, now=now)
        if token is not None:
            claims.append((state_id, token))
    return claims


def _take_over(state_id: int, token: uuid.UUID) -> uuid.UUID | None:
    """Swap the dispatch token for a run token, so a redelivered task finds nothing to run.

    The lease restarts here, so a task that waited in a busy queue gets its full lease.
    """
    run_token = uuid.uuid4()
    now = timezone.now()
    taken = SavedSearchPlatform.objects.filter(pk=state_id, claim_token=token).update(
        claim_token=run_token, claimed_at=now, next_run_at=now + SavedSearchPlatform.CLAIM_LEASE
    )
    return run_token if taken == 1 else None


def harvest_run(*, state_id: int, token: uuid.UUID, max_pages: int | None = None, source=None) -> HarvestRun | None:
    """Run one claimed harvest.

    1. Take over the claim (skip if the pair was deleted, or the claim is stale).
    2. For each page the source yields: in one transaction, store the page, move the
       cursor and renew the lease, checking the claim is still ours.
    3. Record the run and schedule the next one (or the rate-limit reset). Whatever
       goes wrong, the run is finished with its error and the claim released, so the
       health page says what happened and the pair is tried again at its next time.
    """
    run_token = _take_over(state_id, token)
    if run_token is None:
        return None
    try:
        state = SavedSearchPlatform.objects.select_related("saved_search").get(pk=state_id)
        run = HarvestRun.objects.create(saved_search=state.saved_search, platform=state.platform)
    except (SavedSearchPlatform.DoesNotExist, IntegrityError):
        return None  # the saved search was deleted just now
    search = state.saved_search
    status, error_text, next_run_at = SavedSearchPlatform.Status.OK, "", None
    skipped: list[str] = []
    try:
        source = source or get_source(state.platform)
        query = parse(search.query)
        pages = source.pages(query=query, cursor=state.cursor, max_pages=max_pages or settings.EARSHOT_DEMO_PAGES_PER_RUN)
        for page in pages:
            with transaction.atomic():
                result = page_ingest(platform=state.platform, posts=page.posts)
                moved = SavedSearchPlatform.objects.filter(pk=state.pk, claim_token=run_token).update(
                    cursor=page.cursor, next_run_at=timezone.now() + SavedSearchPlatform.CLAIM_LEASE
                )
                if moved != 1:
                    # Our claim lapsed or the search was deleted: drop this page.
                    transaction.set_rollback(True)
                    status, error_text = SavedSearchPlatform.Status.ERROR, "The run lost its claim; the page was not stored."
                    break
                HarvestRun.objects.filter(pk=run.pk).update(
                    pages=F("pages") + 1,
                    fetched=F("fetched") + result.fetched,
                    new=F("new") + result.new,
                    matched=F("matched") + result.matched,
                )
            skipped.extend(page.skipped)
            skipped.extend(result.skipped)
    except RateLimited as limited:
        status, error_text, next_run_at = limited.status, str(limited), limited.retry_at
        HarvestRun.objects.filter(pk=run.pk).update(rate_limit_waits=F("rate_limit_waits") + 1)
    except (HarvestError, QuerySyntaxError) as error:
        status, error_text = getattr(error, "status", SavedSearchPlatform.Status.ERROR), str(error)
        log.warning("Harvest of %s stopped: %s", state, error_text)
    except Exception as error:  # the worker's boundary: record it, never leave a run hanging
        status, error_text = SavedSearchPlatform.Status.ERROR, f"{error.__class__.__name__}: {error}"
        log.exception("Harvest of %s failed", state)
    now = timezone.now()
    HarvestRun.objects.filter(pk=run.pk).update(
        finished_at=now, status=status, errors=skipped + ([error_text] if error_text else [])
    )
    SavedSearchPlatform.objects.filter(pk=state.pk, claim_token=run_token).update(
        claim_token=None,
        claimed_at=None,
        last_run_at=now,
        last_status=status,
        last_error=error_text,
        next_run_at=next_run_at or now + timedelta(minutes=search.interval_minutes),
    )
    return HarvestRun.objects.filter(pk=run.pk).first()


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
                "query": search.query,
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
