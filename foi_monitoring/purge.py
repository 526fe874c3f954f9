"""The five-day rule: deleting FOI-monitoring data, provably.

DESIGN.md: within five days after each review meeting, everything the monitoring
collected before that meeting is deleted; a ceiling (30 days) deletes it even when
no meeting happens. The days are settings (EARSHOT_FOI_PURGE_DAYS_AFTER_MEETING,
EARSHOT_FOI_PURGE_CEILING_DAYS).

When a meeting's data goes: as soon as the meeting's minutes are closed, and in any
case an hour before its deadline (beat runs the purge every 15 minutes), so it is
always gone "within five days". Until then the group can read the evidence it is
deciding on.

What goes, for the cutoff (the latest due meeting's start, or now minus the ceiling,
whichever is later):
1. signals (AuthoritySignal, the evidence links) collected before the cutoff;
2. the monitoring teams' inbox items created before it, and their decisions;
   monitoring teams are those owning an FOI-monitoring saved search or holding an
   FOI-enforcement grant;
3. hits of FOI-monitoring saved searches matched before it;
4. every one of those mentions that nothing else still needs, with what is left of
   it: its other hits, and other teams' inbox items that were dismissed (decided
   `no_action`) with their decisions.
   A mention is still needed when another team's inbox item for it is open, or was
   decided as anything but `no_action` (it became an enquiry, complaint, information
   request or news item: it is that team's record now, cases included), or when it
   still has monitoring data collected after the cutoff.
Review decisions, flags (counts only) and meetings stay: they are enforcement records.

Deleting in batches: mentions are taken 5,000 at a time, each batch its own short
transaction. A single DELETE of a million rows would hold its row locks, and block
any officer deciding one of those items, until the whole statement finished, and
would write one huge transaction to the WAL; batches keep every lock to a fraction
of a second and let triage carry on between them. (Partitions dropped whole would be
faster still, but mentions are shared between teams: one mention may be monitoring
data and another team's complaint, so no partition holds only deletable rows.)
Django's foreign keys do not cascade in the database, so children go first. A batch
is the next 5,000 candidates in id order: signals, hits and monitoring inbox items are
found by one index range scan over the batch's first and last id (5,000 separate index
probes cost several times more), so a purge reads each index once over the span of the
candidates, however many batches it takes; what the batch then deletes by id (items,
their decisions, the mentions going and what is left of them) is found the same way,
the ids a hashed filter on the range. The foreign keys onto mentions and inbox
items are ON DELETE RESTRICT (foi_monitoring migration 0003): half the checking work of
NO ACTION for every deleted row.

Side by side: the batches can run on EARSHOT_FOI_PURGE_CONNECTIONS connections at once,
each batch still its own transaction, its counts added once it has committed. Most of a
batch's time is PostgreSQL checking every foreign key onto each deleted mention and
inbox item, one row at a time on one backend, so a second connection nearly halves the
purge, but keeps a second core busy: with two cores shared with the web requests the
inbox's p95 more than doubled during the purge, so the default is one. Two batches can
wait for each other only through rows that link them (a group's leader and a member, a
circulation's item and mention); PostgreSQL breaks such a deadlock by rolling one back,
and that batch runs again. A dry run, or a purge inside a caller's transaction, runs
its batches one after another on its own connection, as no other connection could see
its rows.

Safe twice and concurrently: a run holds a PostgreSQL advisory lock for its whole
length, so a second run waits, then finds nothing left. Each run writes one
PurgeRecord (category, cutoff, counts per table, the meeting behind it) and an audit
event; `dry_run` does the same work in a transaction it rolls back, so it reports
exactly what would go and changes nothing.
"""

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateformat import format as date_format
from psycopg.errors import DeadlockDetected

from accounts.models import AccessGrant, Role
from foi_monitoring.models import ReviewMeeting
from governance.models import PurgeRecord
from governance.services import audit_event_record
from listening.models import Purpose, SavedSearch

BATCH = 5_000
DEADLOCK_TRIES = 3
# Starts before each deadline by more than the beat period (settings caps it at 30 minutes).
DEADLINE_MARGIN = timedelta(hours=1)
LOCK_KEY = 4_741_234_905_117_001  # pg_advisory_lock key of the FOI purge
TABLES = (
    "foi_monitoring.authoritysignal",
    "triage.decision",
    "triage.inboxitem",
    "listening.mentionhit",
    "listening.mention",
)


@dataclass
class PurgeResult:
    cutoff: datetime
    basis: str
    meeting: ReviewMeeting | None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    record: PurgeRecord | None = None
    dry_run: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def describe(self) -> str:
        verb = "Would delete" if self.dry_run else "Deleted"
        parts = ", ".join(f"{n:,} from {table}" for table, n in self.counts.items())
        return f"{verb} data collected before {self.cutoff:%Y-%m-%d %H:%M %Z} ({self.basis}): {parts}."


class _DryRunRollback(Exception):
    pass


def due_meetings(now: datetime):
    """Meetings whose data must go now: minutes closed, or within the margin of the deadline."""
    days = timedelta(days=settings.EARSHOT_FOI_PURGE_DAYS_AFTER_MEETING)
    return ReviewMeeting.objects.filter(starts_at__lte=now).filter(
        Q(closed_at__isnull=False) | Q(starts_at__lte=now - days + DEADLINE_MARGIN)
    )


def purge_cutoff(now: datetime) -> tuple[datetime, str, ReviewMeeting | None]:
    ceiling = now - timedelta(days=settings.EARSHOT_FOI_PURGE_CEILING_DAYS)
    meeting = due_meetings(now).order_by("-starts_at", "-id").first()
    if meeting is not None and meeting.starts_at > ceiling:
        local = timezone.localtime(meeting.starts_at)
        basis = (f"{settings.EARSHOT_FOI_PURGE_DAYS_AFTER_MEETING}-day rule: the meeting on "
                 f"{date_format(local, 'j F Y H:i')}")
        return meeting.starts_at, basis, meeting
    return ceiling, f"{settings.EARSHOT_FOI_PURGE_CEILING_DAYS}-day ceiling", None


def monitoring_teams() -> list[int]:
    searches = SavedSearch.objects.filter(purpose=Purpose.FOI_MONITORING).values_list("team_id", flat=True)
    grants = AccessGrant.objects.active().filter(role=Role.FOI_ENFORCEMENT).values_list("team_id", flat=True)
    return sorted(set(searches) | set(grants))


def monitoring_searches() -> list[int]:
    return list(SavedSearch.objects.filter(purpose=Purpose.FOI_MONITORING).values_list("id", flat=True))


_CANDIDATES_SQL = """
SELECT mention_id FROM listening_mentionhit WHERE saved_search_id = ANY(%(searches)s) AND matched_at < %(cutoff)s
UNION
SELECT mention_id FROM foi_monitoring_authoritysignal WHERE collected_at < %(cutoff)s
UNION
SELECT mention_id FROM triage_inboxitem WHERE team_id = ANY(%(teams)s) AND created_at < %(cutoff)s
ORDER BY 1
"""

# One batch, children before parents: every referencing row goes (or has its reference
# cleared) before the row it references, in an earlier statement or an earlier part of the
# same one (ON DELETE RESTRICT checks a statement's deletes when the whole statement has
# run), and every row is locked by an earlier statement before its children go, so nobody
# can add a child the delete would not see.
# The batch's rows are found by one index range scan over its first and last id. A set of
# ids the batch already holds is then a hashed filter on that range (`col + 0 = ANY(...)`
# keeps the planner from using the array as index condition, one descent per element):
# the range is read once, however many ids the array holds.
_DELETE_SIGNALS = (
    "DELETE FROM foi_monitoring_authoritysignal WHERE mention_id BETWEEN %(lo)s AND %(hi)s AND collected_at < %(cutoff)s"
)
# A monitoring item the group itself made into a case stays, with its mention: a case is
# casework with its own retention, not monitoring data (signals and hits still go).
_MONITORING_ITEMS = (
    "SELECT i.id FROM triage_inboxitem i WHERE i.mention_id BETWEEN %(lo)s AND %(hi)s AND i.team_id = ANY(%(teams)s)"
    " AND i.created_at < %(cutoff)s AND NOT EXISTS (SELECT 1 FROM triage_case c WHERE c.item_id = i.id)"
    " ORDER BY i.id FOR UPDATE OF i"
)
_DELETE_HITS = (
    "DELETE FROM listening_mentionhit WHERE mention_id BETWEEN %(lo)s AND %(hi)s AND saved_search_id = ANY(%(searches)s)"
    " AND matched_at < %(cutoff)s"
)

# The batch's mentions that nothing still needs (see the module docstring, step 4),
# locked, so an ingest upserting one of them waits for us and then sees it gone.
# The signal and hit checks carry the batch's range so that they can be one range scan each.
_UNNEEDED_SQL = """
SELECT m.id FROM listening_mention m
WHERE m.id BETWEEN %(lo)s AND %(hi)s AND m.id = ANY(%(ids)s::bigint[])
  AND NOT EXISTS (
    SELECT 1 FROM foi_monitoring_authoritysignal s WHERE s.mention_id = m.id AND s.mention_id BETWEEN %(lo)s AND %(hi)s
  )
  AND NOT EXISTS (
    SELECT 1 FROM listening_mentionhit h
    WHERE h.mention_id = m.id AND h.mention_id BETWEEN %(lo)s AND %(hi)s AND h.saved_search_id = ANY(%(searches)s)
  )
  AND NOT EXISTS (
    SELECT 1 FROM triage_inboxitem i WHERE i.mention_id = m.id AND (
        i.team_id = ANY(%(teams)s)
        OR i.status <> 'done'
        OR EXISTS (SELECT 1 FROM triage_decision d WHERE d.item_id = i.id AND d.outcome <> 'no_action')
    )
  )
ORDER BY m.id
FOR UPDATE OF m
"""
# Other teams' dismissed items of the mentions going (the only items they can still have).
_ITEMS_OF_GONE = (
    "SELECT id FROM triage_inboxitem WHERE mention_id BETWEEN %(lo)s AND %(hi)s AND mention_id + 0 = ANY(%(gone)s::bigint[])"
    " ORDER BY id FOR UPDATE"
)
# Locked items: circulations are kept (what was sent stays disclosable) and lose only the
# link (SET_NULL); decisions and the items go.
_DELETE_ITEMS = """
WITH unlinked AS (
    UPDATE triage_circulation SET item_id = NULL WHERE {item_id} RETURNING 1
), decisions AS (
    DELETE FROM triage_decision WHERE {item_id} RETURNING 1
), items AS (
    DELETE FROM triage_inboxitem WHERE {id} RETURNING 1
)
SELECT (SELECT count(*) FROM unlinked), (SELECT count(*) FROM decisions), (SELECT count(*) FROM items)
"""
# A batch's items are mostly as close together as its mentions, but an item made long
# after its mention (or another team's old item) can widen their span: past a few ids
# per item, one index descent per id reads less than the range would.
DENSE_ITEMS = 4


# Locked mentions: what is left of them (hits; circulations lose the link) and the mentions.
_DELETE_GONE = """
WITH hits AS (
    DELETE FROM listening_mentionhit WHERE mention_id BETWEEN %(lo)s AND %(hi)s AND mention_id + 0 = ANY(%(gone)s::bigint[]) RETURNING 1
), unlinked AS (
    UPDATE triage_circulation SET mention_id = NULL
    WHERE mention_id BETWEEN %(lo)s AND %(hi)s AND mention_id + 0 = ANY(%(gone)s::bigint[]) RETURNING 1
), mentions AS (
    DELETE FROM listening_mention WHERE id BETWEEN %(lo)s AND %(hi)s AND id + 0 = ANY(%(gone)s::bigint[]) RETURNING 1
)
SELECT (SELECT count(*) FROM hits), (SELECT count(*) FROM unlinked), (SELECT count(*) FROM mentions)
"""


def _id_array(ids: list[int]) -> str:
    """The ids as an array literal: psycopg's list adapter checks every element, several times slower."""
    return "{" + ",".join(map(str, ids)) + "}"


def _items_condition(column: str, items: list[int]) -> str:
    if items[-1] - items[0] < DENSE_ITEMS * len(items):
        return f"{column} BETWEEN %(first)s AND %(last)s AND {column} + 0 = ANY(%(items)s::bigint[])"
    return f"{column} = ANY(%(items)s::bigint[])"


def _delete_items(cursor, items: list[int], counts: dict) -> None:
    if not items:
        return
    sql = _DELETE_ITEMS.format(item_id=_items_condition("item_id", items), id=_items_condition("id", items))
    cursor.execute(sql, {"items": _id_array(items), "first": items[0], "last": items[-1]})
    _, decisions, deleted = cursor.fetchone()
    counts["triage.decision"] += decisions
    counts["triage.inboxitem"] += deleted


def _purge_batch(cursor, params: dict, counts: dict) -> None:
    cursor.execute(_DELETE_SIGNALS, params)
    counts["foi_monitoring.authoritysignal"] += cursor.rowcount
    cursor.execute(_MONITORING_ITEMS, params)
    _delete_items(cursor, [row[0] for row in cursor.fetchall()], counts)
    cursor.execute(_DELETE_HITS, params)
    counts["listening.mentionhit"] += cursor.rowcount
    cursor.execute(_UNNEEDED_SQL, params)
    gone = [row[0] for row in cursor.fetchall()]
    if not gone:
        return
    gone_params = {"gone": _id_array(gone), "lo": params["lo"], "hi": params["hi"]}
    cursor.execute(_ITEMS_OF_GONE, gone_params)
    _delete_items(cursor, [row[0] for row in cursor.fetchall()], counts)
    cursor.execute(_DELETE_GONE, gone_params)
    hits, _, mentions = cursor.fetchone()
    counts["listening.mentionhit"] += hits
    counts["listening.mention"] += mentions


def monitoring_purge(*, now: datetime | None = None, dry_run: bool = False, triggered_by: str = "system",
                     batch_size: int = BATCH, connections: int | None = None) -> PurgeResult:
    """Apply the five-day rule and its ceiling once; see the module docstring."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
    try:
        # Read the clock and the meetings only once the lock is ours: a run that waited sees what the first did.
        now = now or timezone.now()
        cutoff, basis, meeting = purge_cutoff(now)
        result = PurgeResult(cutoff=cutoff, basis=basis, meeting=meeting, dry_run=dry_run)
        params = {"cutoff": cutoff, "teams": monitoring_teams(), "searches": monitoring_searches()}
        connections = connections or settings.EARSHOT_FOI_PURGE_CONNECTIONS
        if dry_run:
            try:
                with transaction.atomic():
                    _purge_all(params, result, batch_size)
                    raise _DryRunRollback
            except _DryRunRollback:
                pass
            return result
        _purge_all(params, result, batch_size, connections)
        with transaction.atomic():
            result.record = PurgeRecord.objects.create(
                category=PurgeRecord.Category.FOI_MONITORING, cutoff=cutoff, counts=result.counts, basis=basis[:300],
                meeting=meeting, triggered_by=triggered_by[:150],
            )
            ReviewMeeting.objects.filter(pk__in=due_meetings(now).filter(starts_at__lte=cutoff, purged_at__isnull=True)).update(
                purged_at=now
            )
            audit_event_record(
                action="foi.purge", actor_label=triggered_by[:150], obj=result.record,
                details={"cutoff": cutoff.isoformat(), "counts": result.counts, "meeting_id": meeting.id if meeting else None},
            )
        return result
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def _purge_all(params: dict, result: PurgeResult, batch_size: int, connections: int = 1) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_CANDIDATES_SQL, params)
        candidates = [row[0] for row in cursor.fetchall()]
    batches = [candidates[start : start + batch_size] for start in range(0, len(candidates), batch_size)]
    # Other connections cannot see an open transaction's rows (a dry run, or a caller's
    # atomic block), so those batches run one after another on this connection.
    if connections <= 1 or len(batches) < 2 or connection.in_atomic_block:
        for ids in batches:
            _add(result.counts, _run_batch(params, ids))
        return
    _run_side_by_side(params, batches, result.counts, connections)


def _add(counts: dict, batch_counts: dict) -> None:
    for table, n in batch_counts.items():
        counts[table] += n


def _run_batch(params: dict, ids: list[int]) -> dict:
    """One batch in its own transaction; its counts, once it has committed."""

    def attempt():
        batch_counts = dict.fromkeys(TABLES, 0)
        with transaction.atomic(), connection.cursor() as cursor:
            _purge_batch(cursor, {**params, "ids": _id_array(ids), "lo": ids[0], "hi": ids[-1]}, batch_counts)
        return batch_counts

    return retrying_deadlocks(attempt)


def retrying_deadlocks(attempt, tries: int = DEADLOCK_TRIES):
    """attempt(), a transaction of its own, run again when PostgreSQL ends it to break a deadlock.

    Two batches can wait for each other through rows that link them: a group's leader in
    one and a member in the other (the database clears a deleted leader from its members),
    or a circulation of an item in one and of a mention in the other. PostgreSQL then
    rolls one of them back; that batch has changed nothing and is simply run again.
    """
    for number in range(1, tries + 1):
        try:
            return attempt()
        except OperationalError as error:
            if number == tries or not isinstance(error.__cause__, DeadlockDetected):
                raise


def _run_side_by_side(params: dict, batches: list[list[int]], counts: dict, connections: int) -> None:
    """The batches on `connections` connections: this one, and one each of connections - 1 threads.

    Each batch is still its own short transaction; a batch's counts are added once it
    has committed, so the totals stay exact. The advisory lock stays with this
    connection, so a second run still waits for the whole of this one.
    """
    pending = iter(batches)
    guard = threading.Lock()
    failures = []

    def work():
        try:
            while not failures:
                with guard:
                    ids = next(pending, None)
                if ids is None:
                    return
                batch_counts = _run_batch(params, ids)
                with guard:
                    _add(counts, batch_counts)
        except BaseException as error:  # re-raised by the caller's thread below
            failures.append(error)

    def thread_work():
        try:
            work()
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=thread_work, name=f"foi-purge-{n}") for n in range(1, connections)]
    for thread in threads:
        thread.start()
    work()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
