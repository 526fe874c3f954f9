"""The retention purge: each category's selection deleted in batches, recorded, under one lock.

See the package docstring for batching, locking and what a run records.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from governance.models import PurgeRecord, RetentionPolicy
from governance.retention.selection import (
    ITEM_CATEGORIES,
    ORDER,
    TABLES,
    Category,
    ItemRule,
    candidates_sql,
    circulations_sql,
    describe_counts,
    harvest_runs_sql,
    item_rule,
    items_sql,
    mentions_sql,
    retention_preview,
    selection_params,
)
from governance.services import audit_event_record, audit_log_purge

logger = logging.getLogger(__name__)

BATCH = 5_000
LOCK_KEY = 4_741_234_905_117_002  # pg_advisory_lock key of the retention purge

@dataclass
class CategoryResult:
    category: str
    cutoff: datetime
    counts: dict[str, int]
    record: PurgeRecord | None = None
    failed_batches: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class RetentionResult:
    dry_run: bool
    categories: list[CategoryResult] = field(default_factory=list)

    def describe(self) -> str:
        verb = "Would delete" if self.dry_run else "Deleted"
        lines = []
        for result in self.categories:
            label = Category(result.category).label
            line = f"{label}: {verb.lower()} {describe_counts(result.counts)} (before {result.cutoff:%Y-%m-%d %H:%M %Z})."
            if result.failed_batches:
                line += f" {result.failed_batches} batch(es) left for the next run after a concurrent change."
            lines.append(line)
        return "\n".join(lines)


def _delete_items(cursor, items: list[int], counts: dict) -> None:
    if not items:
        return
    cursor.execute("SELECT id FROM triage_case WHERE item_id = ANY(%s) ORDER BY id FOR UPDATE", [items])
    cases = [row[0] for row in cursor.fetchall()]
    if cases:
        cursor.execute("DELETE FROM triage_caseevent WHERE case_id = ANY(%s)", [cases])
        counts["triage.caseevent"] += cursor.rowcount
        cursor.execute("DELETE FROM triage_clockpause WHERE case_id = ANY(%s)", [cases])
        counts["triage.clockpause"] += cursor.rowcount
        cursor.execute("DELETE FROM triage_case WHERE id = ANY(%s)", [cases])
        counts["triage.case"] += cursor.rowcount
    # Circulations keep what was sent; they lose only the link (SET_NULL), as in the FOI purge.
    cursor.execute("UPDATE triage_circulation SET item_id = NULL WHERE item_id = ANY(%s)", [items])
    cursor.execute("DELETE FROM triage_decision WHERE item_id = ANY(%s)", [items])
    counts["triage.decision"] += cursor.rowcount
    cursor.execute("DELETE FROM triage_inboxitem WHERE id = ANY(%s)", [items])
    counts["triage.inboxitem"] += cursor.rowcount


def _items_batch(cursor, rule: ItemRule, params: dict, counts: dict) -> None:
    """One batch of candidate mentions: choose (and lock) both sets first, then delete children before parents."""
    cursor.execute(
        f"SELECT i.id FROM triage_inboxitem i WHERE i.mention_id = ANY(%(ids)s) AND {items_sql(rule)}"
        " ORDER BY i.id FOR UPDATE OF i", params,
    )
    items = [row[0] for row in cursor.fetchall()]
    # Locked, so an ingest adding an item for one of them waits, then sees it gone.
    cursor.execute(f"{mentions_sql(rule, batch=True)} ORDER BY m.id FOR UPDATE OF m", params)
    mentions = [row[0] for row in cursor.fetchall()]
    _delete_items(cursor, items, counts)
    if not mentions:
        return
    cursor.execute("UPDATE triage_circulation SET mention_id = NULL WHERE mention_id = ANY(%s)", [mentions])
    cursor.execute("DELETE FROM listening_mentionhit WHERE mention_id = ANY(%s)", [mentions])
    counts["listening.mentionhit"] += cursor.rowcount
    cursor.execute("DELETE FROM listening_mention WHERE id = ANY(%s)", [mentions])
    counts["listening.mention"] += cursor.rowcount


def _circulations_batch(cursor, params: dict, counts: dict) -> None:
    cursor.execute(f"{circulations_sql()} AND c.id = ANY(%(ids)s) ORDER BY c.id FOR UPDATE OF c", params)
    chosen = [row[0] for row in cursor.fetchall()]
    cursor.execute("DELETE FROM triage_circulationrecipient WHERE circulation_id = ANY(%s)", [chosen])
    counts["triage.circulationrecipient"] += cursor.rowcount
    cursor.execute("DELETE FROM triage_circulation WHERE id = ANY(%s)", [chosen])
    counts["triage.circulation"] += cursor.rowcount


def _harvest_runs_batch(cursor, params: dict, counts: dict) -> None:
    cursor.execute(f"DELETE FROM listening_harvestrun WHERE id IN ({harvest_runs_sql()} AND r.id = ANY(%(ids)s))", params)
    counts["listening.harvestrun"] += cursor.rowcount


def _in_batches(result: CategoryResult, candidates_sql: str, params: dict, batch_size: int, delete_batch) -> None:
    with connection.cursor() as cursor:
        cursor.execute(candidates_sql, params)
        candidates = [row[0] for row in cursor.fetchall()]
    for start in range(0, len(candidates), batch_size):
        ids = candidates[start : start + batch_size]
        counts = dict.fromkeys(result.counts, 0)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                delete_batch(cursor, {**params, "ids": ids}, counts)
        except (IntegrityError, OperationalError):
            # A concurrent write (a new item for one of these mentions, a deadlock) undid this batch only.
            logger.warning("Retention %s: a batch of %d was rolled back; the next run retries it.",
                           result.category, len(ids), exc_info=True)
            result.failed_batches += 1
            continue
        for table, n in counts.items():
            result.counts[table] += n


def retention_category_apply(
    *, policy: RetentionPolicy, now: datetime, triggered_by: str = "system", batch_size: int = BATCH
) -> CategoryResult:
    """Delete what `policy` selects now, in batches, and record it. Call under the retention lock (`retention_apply`)."""
    category = policy.category
    cutoff = now - timedelta(days=policy.days)
    basis = f"Retention policy: {Category(category).label.lower()} kept {policy.days:,} days"
    if category == Category.AUDIT_LOG:
        record = audit_log_purge(cutoff=cutoff, basis=basis, triggered_by=triggered_by, policy=policy)
        return CategoryResult(category=category, cutoff=cutoff, counts=record.counts, record=record)
    result = CategoryResult(category=category, cutoff=cutoff, counts=dict.fromkeys(TABLES[category], 0))
    params = selection_params(cutoff, now)
    if category in ITEM_CATEGORIES:
        rule = item_rule(category)
        _in_batches(result, candidates_sql(rule), params, batch_size,
                    lambda cursor, p, counts: _items_batch(cursor, rule, p, counts))
    elif category == Category.CIRCULATIONS:
        _in_batches(result, f"{circulations_sql()} ORDER BY 1", params, batch_size, _circulations_batch)
    elif category == Category.HARVEST_RUNS:
        _in_batches(result, f"{harvest_runs_sql()} ORDER BY 1", params, batch_size, _harvest_runs_batch)
    with transaction.atomic():
        result.record = PurgeRecord.objects.create(
            category=category, cutoff=cutoff, counts=result.counts, basis=basis[:300], policy=policy,
            triggered_by=triggered_by[:150],
        )
        audit_event_record(
            action="retention.purge", actor_label=triggered_by[:150], obj=result.record,
            details={"category": category, "days": policy.days, "cutoff": cutoff.isoformat(), "counts": result.counts,
                     "failed_batches": result.failed_batches},
        )
    return result


def retention_apply(
    *, now: datetime | None = None, categories=None, dry_run: bool = False, triggered_by: str = "system",
    batch_size: int = BATCH,
) -> RetentionResult:
    """Apply every policy (or those of `categories`) once, in ORDER; see the module docstring."""
    chosen = [c for c in ORDER if categories is None or c in categories]
    result = RetentionResult(dry_run=dry_run)
    if dry_run:
        now = now or timezone.now()
        for policy in _policies(chosen):
            counts = retention_preview(category=policy.category, days=policy.days, now=now)
            result.categories.append(CategoryResult(policy.category, now - timedelta(days=policy.days), counts))
        return result
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
    try:
        # The clock and the policies are read only once the lock is ours: a run that waited sees what the first did.
        now = now or timezone.now()
        for policy in _policies(chosen):
            result.categories.append(
                retention_category_apply(policy=policy, now=now, triggered_by=triggered_by, batch_size=batch_size)
            )
        return result
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def _policies(chosen: list[str]) -> list[RetentionPolicy]:
    policies = {p.category: p for p in RetentionPolicy.objects.filter(category__in=chosen)}
    return [policies[c] for c in chosen if c in policies]
