"""Running one harvest, of either kind: a (saved search, platform) pair or a channel.

Both kinds are `HarvestSchedule` rows, claimed, leased and run by the same code; a
`HarvestKind` says only what differs: how a row is enabled, which run and usage
rows it owns, and how its pages are asked for (a query, or a channel string).

Claims: the dispatcher claims a due row with a conditional UPDATE and a fresh token
(`claim`); the task swaps it for a run token (`take_over`), so a redelivered task or
a second dispatcher never runs a row twice at once. A claim is a lease; every stored
page renews it.
"""

import logging
import traceback
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from datetime import datetime

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from listening.budgets import budget_for, budget_states, claim_reservation_take
from listening.credentials import (
    CredentialUnreadable,
    credential_mark_failed,
    credential_values,
    harvest_target,
    redact,
)
from listening.ingest import match_if_arrived, page_commit, page_match
from listening.matching import matching_state
from listening.models import Channel, HarvestRun, HarvestSchedule, HarvestStatus, Platform, PlatformCredential
from listening.models import SavedSearch, SavedSearchPlatform
from listening.query import QueryNotSupported, QuerySyntaxError, parse
from listening.sources import BadCredentials, HarvestError, RateLimited, get_source
from listening.spend import reads_record, spend_block_reason

log = logging.getLogger(__name__)

TOOK_TOO_LONG = "stopped: took too long"
BUDGET_SPENT_NOTE = "Stopped early: the platform's request budget is spent; the next run goes on from here."


def platform_label(platform: str) -> str:
    return Platform(platform).label if platform in Platform.values else platform


class HarvestKind(ABC):
    name: str
    model: type[HarvestSchedule]

    @abstractmethod
    def enabled(self):
        """A condition on the row itself (or EXISTS), never a join: an UPDATE with a join
        becomes `id IN (subquery)`, which PostgreSQL does not re-check after waiting on
        another claimer's lock, and both would win."""
        ...

    @abstractmethod
    def load(self, pk: int) -> HarvestSchedule:
        ...

    @abstractmethod
    def owner(self, row) -> dict:
        """The HarvestRun / PlatformUsage fields naming this row's search or channel."""
        ...

    def base_url(self, row) -> str:
        return ""

    @abstractmethod
    def pages(self, source, row, *, max_pages: int):
        ...


class SearchHarvest(HarvestKind):
    name = "search"
    model = SavedSearchPlatform

    def enabled(self):
        return Exists(SavedSearch.objects.filter(pk=OuterRef("saved_search_id"), enabled=True, archived_at__isnull=True))

    def load(self, pk):
        return SavedSearchPlatform.objects.select_related("saved_search").get(pk=pk)

    def owner(self, row):
        return {"saved_search_id": row.saved_search_id}

    def pages(self, source, row, *, max_pages):
        if not source.supports_search:
            raise HarvestError(
                f"{platform_label(row.platform)} has no search: saved searches on it are matched against its channels' posts."
            )
        return source.pages(query=parse(row.saved_search.query), cursor=row.cursor, max_pages=max_pages)


class ChannelHarvest(HarvestKind):
    name = "channel"
    model = Channel

    def enabled(self):
        return Q(enabled=True)

    def load(self, pk):
        return Channel.objects.get(pk=pk)

    def owner(self, row):
        return {"channel_id": row.pk}

    def base_url(self, row):
        return row.base_url

    def pages(self, source, row, *, max_pages):
        return source.pages(channel=row.channel, cursor=row.cursor, max_pages=max_pages)


SEARCH, CHANNEL = SearchHarvest(), ChannelHarvest()
KINDS: dict[str, HarvestKind] = {SEARCH.name: SEARCH, CHANNEL.name: CHANNEL}


def max_pages_for(platform: str) -> int:
    return settings.EARSHOT_DEMO_PAGES_PER_RUN if platform == "demo" else settings.EARSHOT_HARVEST_MAX_PAGES


def claim(kind: HarvestKind, pk: int, *, now: datetime | None = None) -> uuid.UUID | None:
    """Claim one due row with a conditional UPDATE. None if someone else has it or it is not due."""
    now = now or timezone.now()
    token = uuid.uuid4()
    claimed = kind.model.objects.filter(kind.enabled(), pk=pk, next_run_at__lte=now).update(
        next_run_at=now + kind.model.CLAIM_LEASE, claim_token=token, claimed_at=now
    )
    return token if claimed == 1 else None


def take_over(kind: HarvestKind, pk: int, token: uuid.UUID, *, now: datetime) -> uuid.UUID | None:
    """Swap the dispatch token for a run token, so a redelivered task finds nothing to run.

    The lease restarts here, so a task that waited in a busy queue gets its full lease.
    """
    run_token = uuid.uuid4()
    taken = kind.model.objects.filter(pk=pk, claim_token=token).update(
        claim_token=run_token, claimed_at=now, next_run_at=now + kind.model.CLAIM_LEASE
    )
    return run_token if taken == 1 else None


@dataclass
class Outcome:
    status: str = HarvestStatus.OK
    error: str = ""
    next_run_at: datetime | None = None
    pages: int = 0
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    run_notes: list[str] = field(default_factory=list)

    def note(self, text: str, *, on_target: bool = True) -> None:
        target = self.notes if on_target else self.run_notes
        if text and text not in target:
            target.append(text)


def run(
    kind: HarvestKind, *, pk: int, token: uuid.UUID, max_pages: int | None = None, source=None, clock=timezone.now
) -> HarvestRun | None:
    """Run one claimed harvest.

    1. Take over the claim (skip if the row was deleted, or the claim is stale), and
       pick up the page of request budget the dispatcher reserved for it.
    2. Before each page: stop if the platform's monthly budget is reached, or if its
       shared request budget has nothing left to reserve.
    3. For each page the source yields: count its reads and requests, then in one
       transaction store the page, move the cursor and renew the lease, checking the
       claim is still ours.
    4. Record the run and schedule the next one (or the rate-limit reset). Whatever
       goes wrong, the run is finished with its error and the claim released, so the
       health page says what happened and the row is tried again at its next time.
    """
    run_token = take_over(kind, pk, token, now=clock())
    if run_token is None:
        return None
    held = claim_reservation_take(token=token)
    try:
        row = kind.load(pk)
        harvest_run = HarvestRun.objects.create(platform=row.platform, started_at=clock(), **kind.owner(row))
    except (kind.model.DoesNotExist, IntegrityError):
        return None  # deleted just now; an unused reservation lapses with its window
    credentials = list(PlatformCredential.objects.filter(platform=row.platform))
    base_url, credential = harvest_target(row.platform, base_url=kind.base_url(row), credentials=credentials)
    budget = budget_for(row.platform, credential_id=credential.pk if credential else None, base_url=base_url)
    outcome, keys = Outcome(), {}
    fetching = ThreadPoolExecutor(max_workers=1, thread_name_prefix="harvest-fetch")
    try:
        if credential is not None and credential.failed:
            raise BadCredentials(f"authentication failed: {credential.last_error or 'the platform refused these credentials'}")
        keys = credential_values(credential) if credential else {}
        if source is None:
            source = get_source(row.platform, credentials=keys, base_url=base_url)
        pages = iter(kind.pages(source, row, max_pages=max_pages or max_pages_for(row.platform)))

        def ask_next(*, pending_reads: int = 0, first: bool = False) -> Future | None:
            """Ask for the next page: checks here, the request on the fetching thread. None: the run stops here.

            The first page is fetched here: nothing is being stored yet. `pending_reads`
            are the reads of a page fetched but not yet stored, which count against the
            monthly budget already.
            """
            nonlocal held
            reason = spend_block_reason(row.platform, now=clock(), pending_reads=pending_reads)
            if reason:
                outcome.status, outcome.error = HarvestStatus.BUDGET_REACHED, reason
                return None
            if budget is not None:
                # Reserve the next page (or, holding one, check the credential is not blocked).
                if not budget.reserve(now=clock(), cost=0 if held else 1):
                    _budget_refused(budget, outcome, now=clock())
                    return None
                held = held or 1
            if first:
                upcoming = Future()
                upcoming.set_result(next(pages, None))
                return upcoming
            return fetching.submit(_next_page, pages)

        def arrived(upcoming: Future):
            """The page asked for (its error raised here), with its requests spent; None at the end."""
            nonlocal held
            page = upcoming.result()
            if page is not None and budget is not None:
                used = min(held, page.requests)
                held -= used
                budget.spend(now=clock(), requests=page.requests, release=used, rate_limit=page.rate_limit)
            return page

        # The next page is fetched on a thread of its own while this one is stored, and,
        # when it has arrived by then, matched while PostgreSQL writes this one
        # (`page_commit`'s `meanwhile`): network, matching and writing overlap. A page
        # never waits for the next one to arrive.
        upcoming = ask_next(first=True)
        page = arrived(upcoming) if upcoming is not None else None
        matched = page_match(matching_state(row.platform), page.posts) if page is not None else None
        while page is not None:
            upcoming, following = ask_next(pending_reads=len(page.posts) + len(page.skipped)), []
            with transaction.atomic():
                meanwhile = None
                if upcoming is not None:
                    meanwhile = partial(match_if_arrived, following, matching_state(row.platform), upcoming)
                result = page_commit(matched, meanwhile=meanwhile)
                now = clock()
                moved = kind.model.objects.filter(pk=pk, claim_token=run_token).update(
                    cursor=page.cursor, next_run_at=now + kind.model.CLAIM_LEASE
                )
                if moved != 1:
                    # Our claim lapsed or the row was deleted: drop this page.
                    transaction.set_rollback(True)
                    outcome.status, outcome.error = HarvestStatus.ERROR, "The run lost its claim; the page was not stored."
                    break
                # Counted with the page: the claim check above proves its search or channel still exists.
                reads_record(platform=row.platform, posts=page.posts, skipped=len(page.skipped), now=now, **kind.owner(row))
                HarvestRun.objects.filter(pk=harvest_run.pk).update(
                    pages=F("pages") + 1,
                    requests=F("requests") + page.requests,
                    fetched=F("fetched") + result.fetched,
                    new=F("new") + result.new,
                    matched=F("matched") + result.matched,
                )
            outcome.pages += 1
            outcome.skipped.extend(page.skipped)
            outcome.skipped.extend(result.skipped)
            for note in page.notes:
                outcome.note(note)
            page = arrived(upcoming) if upcoming is not None else None
            if page is not None:
                if following and isinstance(following[0], Exception):
                    raise following[0]  # matching it failed, after the page before it was stored
                matched = following[0] if following else page_match(matching_state(row.platform), page.posts)
    except SoftTimeLimitExceeded:
        outcome.status, outcome.error = HarvestStatus.TIMED_OUT, TOOK_TOO_LONG
        log.warning("Harvest of %s %s: %s", kind.name, pk, TOOK_TOO_LONG)
    except RateLimited as limited:
        outcome.status, outcome.error, outcome.next_run_at = HarvestStatus.RATE_LIMITED, str(limited), limited.retry_at
        HarvestRun.objects.filter(pk=harvest_run.pk).update(rate_limit_waits=F("rate_limit_waits") + 1)
        if budget is not None:
            # The whole credential waits, not just this search or channel.
            budget.block(now=clock(), until=limited.retry_at, rate_limit=limited.rate_limit)
    except BadCredentials as error:
        outcome.status, outcome.error = HarvestStatus.BAD_CREDENTIALS, str(error)
        if credential is not None and not credential.failed:
            credential_mark_failed(credential_id=credential.pk, error=redact(str(error), keys))
    except QueryNotSupported as error:
        outcome.status, outcome.error = HarvestStatus.ERROR, str(error)
    except LookupError as error:  # no source installed for the platform
        outcome.status, outcome.error = HarvestStatus.ERROR, str(error)
    except (HarvestError, QuerySyntaxError, CredentialUnreadable) as error:
        outcome.status, outcome.error = getattr(error, "status", HarvestStatus.ERROR), str(error)
        log.warning("Harvest of %s stopped: %s", row, redact(outcome.error, keys))  # the log is no place for a token
    except Exception as error:  # the worker's boundary: record it, never leave a run hanging
        outcome.status, outcome.error = HarvestStatus.ERROR, f"{error.__class__.__name__}: {error}"
        # The traceback goes to the log redacted: an unexpected error's message can echo a token too.
        trace = "".join(traceback.format_exception(error))
        log.error("Harvest of %s failed\n%s", row, redact(trace, keys))
    finally:
        # A fetch still running (the run timed out, say) ends on its own timeout; nobody waits for it.
        fetching.shutdown(wait=False, cancel_futures=True)
    outcome.error = redact(outcome.error, keys)  # a platform's error can echo a token
    if budget is not None and held > 0:
        budget.release(now=clock(), count=held)
    _finish(kind, row, harvest_run, run_token, outcome, now=clock())
    return HarvestRun.objects.filter(pk=harvest_run.pk).first()


def _next_page(pages):
    """The source's next page, on the fetching thread. Sources use no database; were one to,
    its connection on this thread is closed here, not left open."""
    try:
        return next(pages, None)
    finally:
        connections.close_all()


def _budget_refused(budget, outcome: Outcome, *, now) -> None:
    state = budget_states([budget]).get(budget.key)
    if state is not None and state.blocked(now):
        outcome.status, outcome.next_run_at = HarvestStatus.RATE_LIMITED, state.blocked_until
        outcome.error = f"Waiting for the {platform_label(budget.platform)} rate limit to reset."
    else:
        outcome.note(BUDGET_SPENT_NOTE, on_target=False)


def _finish(kind: HarvestKind, row, harvest_run: HarvestRun, run_token: uuid.UUID, outcome: Outcome, *, now) -> None:
    schedule = {
        "claim_token": None,
        "claimed_at": None,
        "last_run_at": now,
        "last_status": outcome.status,
        "last_error": outcome.error,
        "next_run_at": outcome.next_run_at or now + row.interval,
    }
    if outcome.pages:
        schedule["notes"] = outcome.notes  # a run that read nothing leaves the last notes standing
    for attempt in (1, 2):
        try:
            HarvestRun.objects.filter(pk=harvest_run.pk).update(
                finished_at=now,
                status=outcome.status,
                errors=outcome.skipped + ([outcome.error] if outcome.error else []),
                notes=outcome.notes + outcome.run_notes,
            )
            kind.model.objects.filter(pk=row.pk, claim_token=run_token).update(**schedule)
            return
        except DatabaseError:
            if attempt == 2 or connection.in_atomic_block:
                raise
            # A time limit can interrupt a query and leave the connection unusable.
            connection.close()
