"""Retention: what each policy would delete now, and the nightly purge that deletes exactly that.

One `RetentionPolicy` per category keeps its data `days` from the moment that starts
the category's clock; FOI monitoring data is not here (the five-day rule in
foi_monitoring/purge.py governs it). The categories, their clocks and what goes:

- **untriaged mentions**: inbox items never decided (new or in progress), from the
  moment the item arrived in its team's inbox, and their mentions; also any mention
  that no inbox item holds at all, from the moment it was first seen (nothing else
  would ever delete it).
- **dismissed items**: items whose latest decision is "no action", from that decision
  (`InboxItem.decided_at`), with their decisions and their mentions.
- **news items**: items whose latest decision is "news item", from that decision.
- **cases**: closed cases, from their closing (`Case.closed_at`): the case with its
  history and clock pauses, its inbox item with its decisions, and its mention. An open
  or waiting case is never deleted. A case closed because its decision was changed
  to "no action" or "news item" (resolution "redecided") was never casework: its
  item follows the item's own category, and that stub goes with the item. Case
  references come from a sequence, so a deleted case's reference is never reused.
- **circulations**: what was sent, from its sending, with its recipient rows.
- **harvest runs**: from the run's end (its start, for a run that never finished).
- **audit log**: from each event's time, through `audit_log_purge` (oldest first, so
  the chain stays verifiable).

A mention goes only with the last of its inbox items and only when nothing else
keeps it. It is kept by:
1. any inbox item, in any team, that this run does not delete: an open item not yet
   expired, a decided item within its own category's retention, an item with a case;
2. FOI monitoring data, which its own rule governs: an authority signal, a hit of an
   FOI-monitoring saved search, and the monitoring teams' inbox items (retention never
   deletes a monitoring team's item, except one the group made into a case);
3. a circulation still within the circulations policy (a circulation past it no
   longer keeps the mention: it only loses its link, as it does in the FOI purge);
4. a row of any other table holding a foreign key to it (or to a row that would go
   with it, such as a hit), found in PostgreSQL's catalogue at run time, so a table
   added later keeps its mentions without changing this module. Inbox items (with
   their decisions), cases (with their history), circulations and harvest runs are
   kept the same way.

Preview and purge share one definition. Each category is a pair of SQL conditions
(which items, which mentions) with the same parameters; `retention_preview` counts
the rows they select, and the purge deletes the same conditions' rows batch by batch.
A batch is the next `batch_size` candidate mentions in id order; every condition
refers only to rows of the mention's own batch, so batches do not change each other's
selection, and on an unchanged database the purge deletes exactly what the preview
counted. Categories run in a fixed order, untriaged last: a mention kept by another
team's item when a category's preview was taken can be released by an earlier
category in the same run, and the untriaged run then deletes it as a mention no item
holds. So the nightly total can exceed the sum of previews taken before it, never
fall short of what was intended.

Safe twice and concurrently: a run holds a PostgreSQL advisory lock for its whole
length, reading the policies only once it holds it; a second run waits and then finds
nothing left. Each batch is its own short transaction (row locks held for a fraction
of a second, so triage carries on); a batch a concurrent write makes fail is rolled
back, logged and left for the next night. The foreign keys onto mentions and inbox
items are ON DELETE RESTRICT (foi_monitoring migration 0003), so children always go
first. Each category run writes one PurgeRecord (category, cutoff, counts per table,
basis, policy) and an audit event. A dry run writes and locks nothing: it reports each
category's preview.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from foi_monitoring.purge import monitoring_searches, monitoring_teams
from governance.models import AuditEvent, PurgeRecord, RetentionPolicy
from governance.services import audit_event_record, audit_log_purge, audit_log_purge_through

logger = logging.getLogger(__name__)

Category = PurgeRecord.Category
BATCH = 5_000
LOCK_KEY = 4_741_234_905_117_002  # pg_advisory_lock key of the retention purge
# The nightly order: untriaged last, so it deletes the mentions the others released.
ORDER = (
    Category.CIRCULATIONS, Category.HARVEST_RUNS, Category.CASES, Category.NEWS_ITEMS, Category.DISMISSED_ITEMS,
    Category.UNTRIAGED_MENTIONS, Category.AUDIT_LOG,
)
ITEM_CATEGORIES = (Category.UNTRIAGED_MENTIONS, Category.DISMISSED_ITEMS, Category.NEWS_ITEMS, Category.CASES)
# Every item category deletes the same tables (an untriaged item has no decision, but the
# counts say so rather than assume it).
_ITEM_TABLES = (
    "triage.inboxitem", "triage.decision", "triage.case", "triage.caseevent", "triage.clockpause",
    "listening.mentionhit", "listening.mention",
)
TABLES = {
    **dict.fromkeys(ITEM_CATEGORIES, _ITEM_TABLES),
    Category.CIRCULATIONS: ("triage.circulation", "triage.circulationrecipient"),
    Category.HARVEST_RUNS: ("listening.harvestrun",),
    Category.AUDIT_LOG: ("audit_events",),
}
# How the page names each table's rows: "would delete now: 1,204 mentions, ...".
NOUNS = {
    "listening.mention": ("mention", "mentions"), "listening.mentionhit": ("search hit", "search hits"),
    "triage.inboxitem": ("inbox item", "inbox items"), "triage.decision": ("decision", "decisions"),
    "triage.case": ("case", "cases"), "triage.caseevent": ("case history entry", "case history entries"),
    "triage.clockpause": ("clock pause", "clock pauses"), "triage.circulation": ("circulation", "circulations"),
    "triage.circulationrecipient": ("circulation email", "circulation emails"),
    "listening.harvestrun": ("harvest run", "harvest runs"), "audit_events": ("audit event", "audit events"),
    "foi_monitoring.authoritysignal": ("authority signal", "authority signals"),
}
CLOCKS = {
    Category.UNTRIAGED_MENTIONS: "from arrival in the inbox, for items never decided (and mentions no item holds, from first seen)",
    Category.DISMISSED_ITEMS: "from the decision “no action”",
    Category.NEWS_ITEMS: "from the decision “news item”",
    Category.CASES: "from the case’s closing; open cases are kept",
    Category.CIRCULATIONS: "from sending",
    Category.HARVEST_RUNS: "from the run’s end",
    Category.AUDIT_LOG: "from each event, oldest first",
}

# Foreign keys this module deletes or clears itself; any other one onto these tables keeps the row.
HANDLED_REFERENCES = {
    "listening_mention": {
        ("listening_mentionhit", "mention_id"), ("foi_monitoring_authoritysignal", "mention_id"),
        ("triage_inboxitem", "mention_id"), ("triage_circulation", "mention_id"),
    },
    "triage_inboxitem": {("triage_decision", "item_id"), ("triage_case", "item_id"), ("triage_circulation", "item_id")},
    "triage_case": {("triage_caseevent", "case_id"), ("triage_clockpause", "case_id")},
    "triage_circulation": {("triage_circulationrecipient", "circulation_id")},
    "listening_harvestrun": set(),
    # The rows deleted with those: nothing of ours refers to them.
    "triage_decision": set(), "triage_caseevent": set(), "triage_clockpause": set(),
    "listening_mentionhit": set(), "triage_circulationrecipient": set(),
}

_REFERENCES_SQL = """
SELECT c.conrelid::regclass::text, a.attname
FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f' AND c.confrelid = %s::regclass
ORDER BY 1, 2
"""


def unhandled_references(table: str) -> list[tuple[str, str]]:
    """(table, column) of every foreign key onto `table` that retention does not delete or clear itself."""
    with connection.cursor() as cursor:
        cursor.execute(_REFERENCES_SQL, [table])
        rows = cursor.fetchall()
    return [(t.strip('"'), col) for t, col in rows if (t.strip('"'), col) not in HANDLED_REFERENCES[table]]


# The rows deleted with a row of each table, as (table, foreign key column).
CHILDREN = {
    "listening_mention": [("listening_mentionhit", "mention_id")],
    "triage_inboxitem": [("triage_decision", "item_id")],
    "triage_case": [("triage_caseevent", "case_id"), ("triage_clockpause", "case_id")],
    "triage_circulation": [("triage_circulationrecipient", "circulation_id")],
}


def _unreferenced(table: str, alias: str, depth: int = 0) -> str:
    """SQL true when no row of an unhandled foreign key points at `alias`.id, nor at a child deleted with it."""
    q = connection.ops.quote_name
    clauses = [
        f"NOT EXISTS (SELECT 1 FROM {q(t)} x{depth} WHERE x{depth}.{q(col)} = {alias}.id)"
        for t, col in unhandled_references(table)
    ]
    for child, column in CHILDREN.get(table, ()):
        child_free = _unreferenced(child, f"y{depth}", depth + 1)
        if child_free != "TRUE":
            clauses.append(
                f"NOT EXISTS (SELECT 1 FROM {q(child)} y{depth} WHERE y{depth}.{q(column)} = {alias}.id AND NOT ({child_free}))"
            )
    return " AND ".join(clauses) or "TRUE"


@dataclass(frozen=True)
class _ItemRule:
    """The SQL conditions of one item category, with `{i}` for the inbox item's alias."""

    items: str  # which inbox items go
    orphans: bool = False  # also mentions no inbox item holds, first seen before the cutoff


def _latest_outcome(alias: str) -> str:
    return (f"(SELECT d.outcome FROM triage_decision d WHERE d.item_id = {alias}.id"
            " ORDER BY d.decided_at DESC, d.id DESC LIMIT 1)")


def _item_rule(category: str) -> _ItemRule:
    item_free = _unreferenced("triage_inboxitem", "{i}")
    case_free = _unreferenced("triage_case", "c")
    # Items outside the case category: never a monitoring team's, never one with casework.
    not_casework = (
        "NOT ({i}.team_id = ANY(%(teams)s))"
        " AND NOT EXISTS (SELECT 1 FROM triage_case c WHERE c.item_id = {i}.id"
        f" AND NOT (c.resolution = 'redecided' AND {case_free}))"
    )
    if category == Category.UNTRIAGED_MENTIONS:
        when = "{i}.status <> 'done' AND {i}.created_at < %(cutoff)s"
        return _ItemRule(items=f"{when} AND {not_casework} AND {item_free}", orphans=True)
    if category in (Category.DISMISSED_ITEMS, Category.NEWS_ITEMS):
        outcome = "no_action" if category == Category.DISMISSED_ITEMS else "news_item"
        when = f"{{i}}.status = 'done' AND {{i}}.decided_at < %(cutoff)s AND {_latest_outcome('{i}')} = '{outcome}'"
        return _ItemRule(items=f"{when} AND {not_casework} AND {item_free}")
    if category == Category.CASES:
        closed = (
            "EXISTS (SELECT 1 FROM triage_case c WHERE c.item_id = {i}.id AND c.status = 'closed'"
            f" AND c.resolution <> 'redecided' AND c.closed_at < %(cutoff)s AND {case_free})"
        )
        return _ItemRule(items=f"{closed} AND {item_free}")
    raise ValueError(f"{category} is not an item category")


def _items_sql(rule: _ItemRule, alias: str = "i") -> str:
    return rule.items.replace("{i}", alias)


def _mentions_sql(rule: _ItemRule, *, batch: bool = False) -> str:
    """The mentions that go with the category's items (see the module docstring for what keeps one).

    With `batch`, only those among the `ids` parameter: the same rows, found through the
    batch's own items rather than by reading every chosen item for every batch.
    """
    in_batch = " AND i.mention_id = ANY(%(ids)s)" if batch else ""
    chosen = f"m.id IN (SELECT i.mention_id FROM triage_inboxitem i WHERE {_items_sql(rule)}{in_batch})"
    if rule.orphans:
        chosen = (f"({chosen} OR (m.first_seen_at < %(cutoff)s"
                  " AND NOT EXISTS (SELECT 1 FROM triage_inboxitem o WHERE o.mention_id = m.id)))")
    # COALESCE: a condition that is NULL for some item (no decision, no date) must keep, not release.
    return f"""
SELECT m.id FROM listening_mention m
WHERE {chosen}
  AND NOT EXISTS (SELECT 1 FROM triage_inboxitem o WHERE o.mention_id = m.id AND NOT COALESCE(({_items_sql(rule, 'o')}), FALSE))
  AND NOT EXISTS (SELECT 1 FROM foi_monitoring_authoritysignal s WHERE s.mention_id = m.id)
  AND NOT EXISTS (SELECT 1 FROM listening_mentionhit h WHERE h.mention_id = m.id AND h.saved_search_id = ANY(%(searches)s))
  AND NOT EXISTS (SELECT 1 FROM triage_circulation c WHERE c.mention_id = m.id AND c.created_at >= %(circulation_cutoff)s)
  AND {_unreferenced("listening_mention", "m")}{" AND m.id = ANY(%(ids)s)" if batch else ""}"""


def _candidates_sql(rule: _ItemRule) -> str:
    orphans = ""
    if rule.orphans:
        orphans = ("UNION SELECT m.id FROM listening_mention m WHERE m.first_seen_at < %(cutoff)s"
                   " AND NOT EXISTS (SELECT 1 FROM triage_inboxitem o WHERE o.mention_id = m.id)")
    return f"SELECT i.mention_id FROM triage_inboxitem i WHERE {_items_sql(rule)} {orphans} ORDER BY 1"


def _circulations_sql() -> str:
    return f"SELECT c.id FROM triage_circulation c WHERE c.created_at < %(cutoff)s AND {_unreferenced('triage_circulation', 'c')}"


def _harvest_runs_sql() -> str:
    return ("SELECT r.id FROM listening_harvestrun r WHERE COALESCE(r.finished_at, r.started_at) < %(cutoff)s"
            f" AND {_unreferenced('listening_harvestrun', 'r')}")


# Previews: the same conditions, counted.


def _params(cutoff: datetime, now: datetime) -> dict:
    circulation_days = RetentionPolicy.objects.filter(category=Category.CIRCULATIONS).values_list("days", flat=True).first()
    # Without a circulations policy every circulation is kept, so every one keeps its mention.
    circulation_cutoff = now - timedelta(days=circulation_days) if circulation_days else datetime.min.replace(tzinfo=now.tzinfo)
    return {"cutoff": cutoff, "teams": monitoring_teams(), "searches": monitoring_searches(),
            "circulation_cutoff": circulation_cutoff}


def _count_items_category(category: str, params: dict) -> dict[str, int]:
    rule = _item_rule(category)
    sql = f"""
WITH items AS MATERIALIZED (SELECT i.id FROM triage_inboxitem i WHERE {_items_sql(rule)}),
     mentions AS MATERIALIZED ({_mentions_sql(rule)}),
     cases AS MATERIALIZED (SELECT c.id FROM triage_case c WHERE c.item_id IN (SELECT id FROM items))
SELECT (SELECT count(*) FROM items),
       (SELECT count(*) FROM triage_decision d WHERE d.item_id IN (SELECT id FROM items)),
       (SELECT count(*) FROM cases),
       (SELECT count(*) FROM triage_caseevent e WHERE e.case_id IN (SELECT id FROM cases)),
       (SELECT count(*) FROM triage_clockpause p WHERE p.case_id IN (SELECT id FROM cases)),
       (SELECT count(*) FROM mentions),
       (SELECT count(*) FROM listening_mentionhit h WHERE h.mention_id IN (SELECT id FROM mentions))
"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    found = dict(zip(
        ("triage.inboxitem", "triage.decision", "triage.case", "triage.caseevent", "triage.clockpause",
         "listening.mention", "listening.mentionhit"), row, strict=True,
    ))
    return {table: found[table] for table in TABLES[category]}


def _count(sql: str, params: dict) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({sql}) AS chosen", params)
        return cursor.fetchone()[0]


def retention_preview(*, category: str, days: int, now: datetime | None = None) -> dict[str, int]:
    """Rows per table that `category` kept for `days` would delete now; what `retention_category_apply` then deletes."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=days)
    params = _params(cutoff, now)
    if category in ITEM_CATEGORIES:
        return _count_items_category(category, params)
    if category == Category.CIRCULATIONS:
        sql = _circulations_sql()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT (SELECT count(*) FROM ({sql}) a),"
                f" (SELECT count(*) FROM triage_circulationrecipient r WHERE r.circulation_id IN ({sql}))", params,
            )
            circulations, recipients = cursor.fetchone()
        return {"triage.circulation": circulations, "triage.circulationrecipient": recipients}
    if category == Category.HARVEST_RUNS:
        return {"listening.harvestrun": _count(_harvest_runs_sql(), params)}
    if category == Category.AUDIT_LOG:
        through = audit_log_purge_through(cutoff)
        return {"audit_events": AuditEvent.objects.filter(id__lte=through).count() if through is not None else 0}
    raise ValueError(f"{category} has no retention policy")


def describe_counts(counts: dict[str, int]) -> str:
    """"1,204 mentions, 1,300 inbox items": the tables with rows to go, in the category's order."""
    parts = [
        f"{n:,} {NOUNS.get(table, (table, table))[0 if n == 1 else 1]}" for table, n in counts.items() if isinstance(n, int) and n
    ]
    return ", ".join(parts) or "nothing"


# The purge.


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


def _items_batch(cursor, rule: _ItemRule, params: dict, counts: dict) -> None:
    """One batch of candidate mentions: choose (and lock) both sets first, then delete children before parents."""
    cursor.execute(
        f"SELECT i.id FROM triage_inboxitem i WHERE i.mention_id = ANY(%(ids)s) AND {_items_sql(rule)}"
        " ORDER BY i.id FOR UPDATE OF i", params,
    )
    items = [row[0] for row in cursor.fetchall()]
    # Locked, so an ingest adding an item for one of them waits, then sees it gone.
    cursor.execute(f"{_mentions_sql(rule, batch=True)} ORDER BY m.id FOR UPDATE OF m", params)
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
    cursor.execute(f"{_circulations_sql()} AND c.id = ANY(%(ids)s) ORDER BY c.id FOR UPDATE OF c", params)
    chosen = [row[0] for row in cursor.fetchall()]
    cursor.execute("DELETE FROM triage_circulationrecipient WHERE circulation_id = ANY(%s)", [chosen])
    counts["triage.circulationrecipient"] += cursor.rowcount
    cursor.execute("DELETE FROM triage_circulation WHERE id = ANY(%s)", [chosen])
    counts["triage.circulation"] += cursor.rowcount


def _harvest_runs_batch(cursor, params: dict, counts: dict) -> None:
    cursor.execute(f"DELETE FROM listening_harvestrun WHERE id IN ({_harvest_runs_sql()} AND r.id = ANY(%(ids)s))", params)
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
    params = _params(cutoff, now)
    if category in ITEM_CATEGORIES:
        rule = _item_rule(category)
        _in_batches(result, _candidates_sql(rule), params, batch_size,
                    lambda cursor, p, counts: _items_batch(cursor, rule, p, counts))
    elif category == Category.CIRCULATIONS:
        _in_batches(result, f"{_circulations_sql()} ORDER BY 1", params, batch_size, _circulations_batch)
    elif category == Category.HARVEST_RUNS:
        _in_batches(result, f"{_harvest_runs_sql()} ORDER BY 1", params, batch_size, _harvest_runs_batch)
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


# Changing a policy.


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
