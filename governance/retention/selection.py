"""What each retention policy would delete now: the SQL conditions both the preview and the purge use.

See the package docstring for the categories, their clocks and what keeps a mention.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from foi_monitoring.purge import monitoring_searches, monitoring_teams
from governance.models import AuditEvent, PurgeRecord, RetentionPolicy
from governance.services import audit_log_purge_through

Category = PurgeRecord.Category

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
class ItemRule:
    """The SQL conditions of one item category, with `{i}` for the inbox item's alias."""

    items: str  # which inbox items go
    orphans: bool = False  # also mentions no inbox item holds, first seen before the cutoff


def _latest_outcome(alias: str) -> str:
    # An undone decision stays in the history but no longer counts (triage/undo.py).
    return (f"(SELECT d.outcome FROM triage_decision d WHERE d.item_id = {alias}.id AND d.undone_at IS NULL"
            " ORDER BY d.decided_at DESC, d.id DESC LIMIT 1)")


def item_rule(category: str) -> ItemRule:
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
        return ItemRule(items=f"{when} AND {not_casework} AND {item_free}", orphans=True)
    if category in (Category.DISMISSED_ITEMS, Category.NEWS_ITEMS):
        outcome = "no_action" if category == Category.DISMISSED_ITEMS else "news_item"
        when = f"{{i}}.status = 'done' AND {{i}}.decided_at < %(cutoff)s AND {_latest_outcome('{i}')} = '{outcome}'"
        return ItemRule(items=f"{when} AND {not_casework} AND {item_free}")
    if category == Category.CASES:
        closed = (
            "EXISTS (SELECT 1 FROM triage_case c WHERE c.item_id = {i}.id AND c.status = 'closed'"
            f" AND c.resolution <> 'redecided' AND c.closed_at < %(cutoff)s AND {case_free})"
        )
        return ItemRule(items=f"{closed} AND {item_free}")
    raise ValueError(f"{category} is not an item category")


def items_sql(rule: ItemRule, alias: str = "i") -> str:
    return rule.items.replace("{i}", alias)


def mentions_sql(rule: ItemRule, *, batch: bool = False) -> str:
    """The mentions that go with the category's items (see the module docstring for what keeps one).

    With `batch`, only those among the `ids` parameter: the same rows, found through the
    batch's own items rather than by reading every chosen item for every batch.
    """
    in_batch = " AND i.mention_id = ANY(%(ids)s)" if batch else ""
    chosen = f"m.id IN (SELECT i.mention_id FROM triage_inboxitem i WHERE {items_sql(rule)}{in_batch})"
    if rule.orphans:
        chosen = (f"({chosen} OR (m.first_seen_at < %(cutoff)s"
                  " AND NOT EXISTS (SELECT 1 FROM triage_inboxitem o WHERE o.mention_id = m.id)))")
    # COALESCE: a condition that is NULL for some item (no decision, no date) must keep, not release.
    return f"""
SELECT m.id FROM listening_mention m
WHERE {chosen}
  AND NOT EXISTS (SELECT 1 FROM triage_inboxitem o WHERE o.mention_id = m.id AND NOT COALESCE(({items_sql(rule, 'o')}), FALSE))
  AND NOT EXISTS (SELECT 1 FROM foi_monitoring_authoritysignal s WHERE s.mention_id = m.id)
  AND NOT EXISTS (SELECT 1 FROM listening_mentionhit h WHERE h.mention_id = m.id AND h.saved_search_id = ANY(%(searches)s))
  AND NOT EXISTS (SELECT 1 FROM triage_circulation c WHERE c.mention_id = m.id AND c.created_at >= %(circulation_cutoff)s)
  AND {_unreferenced("listening_mention", "m")}{" AND m.id = ANY(%(ids)s)" if batch else ""}"""


def candidates_sql(rule: ItemRule) -> str:
    orphans = ""
    if rule.orphans:
        orphans = ("UNION SELECT m.id FROM listening_mention m WHERE m.first_seen_at < %(cutoff)s"
                   " AND NOT EXISTS (SELECT 1 FROM triage_inboxitem o WHERE o.mention_id = m.id)")
    return f"SELECT i.mention_id FROM triage_inboxitem i WHERE {items_sql(rule)} {orphans} ORDER BY 1"


def circulations_sql() -> str:
    return f"SELECT c.id FROM triage_circulation c WHERE c.created_at < %(cutoff)s AND {_unreferenced('triage_circulation', 'c')}"


def harvest_runs_sql() -> str:
    return ("SELECT r.id FROM listening_harvestrun r WHERE COALESCE(r.finished_at, r.started_at) < %(cutoff)s"
            f" AND {_unreferenced('listening_harvestrun', 'r')}")


# Previews: the same conditions, counted.


def selection_params(cutoff: datetime, now: datetime) -> dict:
    circulation_days = RetentionPolicy.objects.filter(category=Category.CIRCULATIONS).values_list("days", flat=True).first()
    # Without a circulations policy every circulation is kept, so every one keeps its mention.
    circulation_cutoff = now - timedelta(days=circulation_days) if circulation_days else datetime.min.replace(tzinfo=now.tzinfo)
    return {"cutoff": cutoff, "teams": monitoring_teams(), "searches": monitoring_searches(),
            "circulation_cutoff": circulation_cutoff}


def _count_items_category(category: str, params: dict) -> dict[str, int]:
    rule = item_rule(category)
    sql = f"""
WITH items AS MATERIALIZED (SELECT i.id FROM triage_inboxitem i WHERE {items_sql(rule)}),
     mentions AS MATERIALIZED ({mentions_sql(rule)}),
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
    params = selection_params(cutoff, now)
    if category in ITEM_CATEGORIES:
        return _count_items_category(category, params)
    if category == Category.CIRCULATIONS:
        sql = circulations_sql()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT (SELECT count(*) FROM ({sql}) a),"
                f" (SELECT count(*) FROM triage_circulationrecipient r WHERE r.circulation_id IN ({sql}))", params,
            )
            circulations, recipients = cursor.fetchone()
        return {"triage.circulation": circulations, "triage.circulationrecipient": recipients}
    if category == Category.HARVEST_RUNS:
        return {"listening.harvestrun": _count(harvest_runs_sql(), params)}
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
