"""The dispatcher: which due harvests start now, and which wait.

Every tick (Celery beat, `EARSHOT_DISPATCH_EVERY_SECONDS`):

1. Read every due search harvest and channel (two queries) and every credential (one).
2. Hold back those that cannot run: no credentials on a platform that needs them,
   credentials the platform refused ("authentication failed"), or a platform whose
   monthly budget is reached. Held rows stay due and say why on the health page.
3. Group the rest by the request budget they share (platform and credential), least
   recently run first, so a platform at its request limit serves its searches and
   channels in turn. Each claim reserves one page of budget; when the budget has no
   more, the rest of its group waits for a later tick, and the budget records how
   many waited (the health page's "at its request limit" line).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from listening.budgets import budget_for, claim_reservation_hold
from listening.credentials import CREDENTIAL_NEEDED, harvest_target
from listening.harvest import KINDS, claim, platform_label
from listening.models import Channel, HarvestStatus, PlatformCredential, SavedSearchPlatform
from listening.sources.registry import installed_platforms, source_class
from listening.spend import is_metered, month_totals, spend_caps, spend_state


@dataclass(frozen=True)
class Claim:
    kind: str  # "search" or "channel"
    pk: int
    token: uuid.UUID


@dataclass(frozen=True)
class Due:
    kind: str
    pk: int
    platform: str
    base_url: str
    last_run_at: datetime | None


def platforms_without_search() -> frozenset[str]:
    """Installed platforms whose sources cannot search: their saved searches are matched from channels only."""
    return frozenset(p for p in installed_platforms() if not source_class(p).supports_search)


def harvest_hold(platform: str, credential: PlatformCredential | None, spend_states: dict) -> tuple[str, str] | None:
    """(status, reason) a harvest waits for before it may run, or None when it may."""
    if credential is None and platform in CREDENTIAL_NEEDED:
        return HarvestStatus.ERROR, f"No {platform_label(platform)} credentials yet: an admin adds them under Platforms."
    if credential is not None and credential.failed:
        detail = f": {credential.last_error}" if credential.last_error else ""
        return HarvestStatus.BAD_CREDENTIALS, f"authentication failed{detail}. Nothing polls until the credential is replaced."
    spend = spend_states.get(platform)
    if spend is not None and spend.reached:
        return HarvestStatus.BUDGET_REACHED, spend.reached
    return None


def due_harvests(now: datetime) -> list[Due]:
    searches = (
        SavedSearchPlatform.objects.filter(
            next_run_at__lte=now, saved_search__enabled=True, saved_search__archived_at__isnull=True
        )
        .exclude(platform__in=platforms_without_search())
        .values_list("id", "platform", "last_run_at")
    )
    channels = Channel.objects.filter(next_run_at__lte=now, enabled=True).values_list("id", "platform", "base_url", "last_run_at")
    return [Due("search", pk, platform, "", last) for pk, platform, last in searches] + [
        Due("channel", pk, platform, base_url, last) for pk, platform, base_url, last in channels
    ]


def harvest_dispatch_due(*, now: datetime | None = None) -> list[Claim]:
    """Claim what may run now; the caller enqueues a harvest for each claim."""
    now = now or timezone.now()
    due = due_harvests(now)
    if not due:
        return []
    credentials = list(PlatformCredential.objects.all())
    spend_states = {}
    metered = {d.platform for d in due if is_metered(d.platform)}
    if metered:
        totals, caps = month_totals(now=now), spend_caps()
        spend_states = {p: spend_state(p, totals=totals, caps=caps) for p in metered}

    held: dict[tuple[str, str], dict[str, list[int]]] = {}
    groups: dict[str, tuple] = {}
    for item in due:
        base_url, credential = harvest_target(item.platform, base_url=item.base_url, credentials=credentials)
        hold = harvest_hold(item.platform, credential, spend_states)
        if hold is not None:
            held.setdefault(hold, {}).setdefault(item.kind, []).append(item.pk)
            continue
        budget = budget_for(item.platform, credential_id=credential.pk if credential else None, base_url=base_url)
        key = budget.key if budget else f"unshared:{item.kind}:{item.pk}"
        groups.setdefault(key, (budget, []))[1].append(item)
    _mark_held(held)

    claims = []
    for budget, items in groups.values():
        # Least recently run first (never run before all): each gets its turn.
        items.sort(key=lambda d: (d.last_run_at is not None, d.last_run_at or now, d.kind, d.pk))
        for position, item in enumerate(items):
            if budget is not None and not budget.reserve(now=now):
                budget.note_deferred(now=now, count=len(items) - position)
                break
            kind = KINDS[item.kind]
            token = claim(kind, item.pk, now=now)
            if token is None:  # another dispatcher won it
                if budget is not None:
                    budget.release(now=now, count=1)
                continue
            if budget is not None:
                claim_reservation_hold(token=token, count=1, lease_seconds=int(kind.model.CLAIM_LEASE.total_seconds()))
            claims.append(Claim(item.kind, item.pk, token))
    return claims


def _mark_held(held: dict) -> None:
    """Say on each held row why it waits (only rows not saying so already)."""
    for (status, reason), by_kind in held.items():
        for kind_name, ids in by_kind.items():
            (
                KINDS[kind_name]
                .model.objects.filter(pk__in=ids, claim_token__isnull=True)
                .exclude(last_status=status, last_error=reason)
                .update(last_status=status, last_error=reason)
            )
