import ipaddress
import json

from django.db import connection, models, transaction
from django.utils import timezone

from governance.models import GENESIS_HASH, AuditEvent, audit_hash

# pg_advisory_xact_lock key that serialises appends to the audit chain.
AUDIT_CHAIN_LOCK_KEY = 4_741_234_905_117_101


def audit_repr(obj: models.Model) -> str:
    """How the audit log names an object: its `audit_repr` where it has one, else its str().

    Rows that hold a post or its author's details (a mention, an inbox item, a
    circulation, a watch-list member) give their kind and id instead: the audit log
    is never edited, so it must not hold what an erasure has to remove.
    """
    named = getattr(obj, "audit_repr", None)
    return named if isinstance(named, str) else str(obj)


def audit_event_record(
    *,
    action: str,
    actor=None,
    obj: models.Model | None = None,
    ip: str | None = None,
    details: dict | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Write one audit row, chained to the one before. Call it inside the transaction of the action it records.

    1. Take the chain's transaction-level advisory lock: appends queue here until
       the writer before commits or rolls back, so two events never follow the same
       one. The lock is held to the end of the caller's transaction.
    2. Read the newest event's hash (a fresh statement, so it sees the writer that
       held the lock) and the next id, and let PostgreSQL normalise the details as
       jsonb will store them (and the address as inet will), so the hash is over
       what reads back.
    3. Insert the row with its id, time, previous hash and hash.
    """
    event = AuditEvent(
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor_label or (actor.get_username() if actor is not None and actor.is_authenticated else "system"),
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=audit_repr(obj)[:300] if obj is not None else "",
        ip=str(ipaddress.ip_address(ip)) if ip else None,
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK_KEY])
        cursor.execute(
            "SELECT (SELECT hash FROM governance_auditevent ORDER BY id DESC LIMIT 1),"
            " nextval(pg_get_serial_sequence('governance_auditevent', 'id')), %s::jsonb::text, host(%s::inet)",
            [json.dumps(details or {}), event.ip],
        )
        previous_hash, event.id, stored_details, event.ip = cursor.fetchone()
        event.details = json.loads(stored_details)
        event.previous_hash = previous_hash or GENESIS_HASH
        # Taken under the lock, so times rise with the chain, as ids do.
        event.at = timezone.now()
        event.hash = audit_hash(
            id=event.id, at=event.at, actor_id=event.actor_id, actor_label=event.actor_label, action=event.action,
            object_type=event.object_type, object_id=event.object_id, object_repr=event.object_repr, ip=event.ip,
            details=event.details, previous_hash=event.previous_hash,
        )
        event.save(force_insert=True)
    return event


def audit_events_record(
    *, events: list[tuple[str, models.Model | None, dict | None]], actor=None, ip: str | None = None,
    actor_label: str = "",
) -> list[AuditEvent]:
    """Write many audit rows, (action, obj, details) each, chained in order: as many calls
    of `audit_event_record` would, in three statements however many rows there are.

    For actions over many objects at once (a group of reposts decided together), so
    one audit row per object does not cost three round trips per object.
    """
    if not events:
        return []
    label = actor_label or (actor.get_username() if actor is not None and actor.is_authenticated else "system")
    actor = actor if actor is not None and actor.is_authenticated else None
    ip = str(ipaddress.ip_address(ip)) if ip else None
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK_KEY])
        cursor.execute(
            "SELECT (SELECT hash FROM governance_auditevent ORDER BY id DESC LIMIT 1),"
            " array(SELECT nextval(pg_get_serial_sequence('governance_auditevent', 'id')) FROM generate_series(1, %s)),"
            " array(SELECT d::jsonb::text FROM unnest(%s::text[]) WITH ORDINALITY AS u(d, n) ORDER BY n),"
            " host(%s::inet)",
            [len(events), [json.dumps(details or {}) for _, _, details in events], ip],
        )
        previous_hash, ids, stored_details, ip = cursor.fetchone()
        previous_hash = previous_hash or GENESIS_HASH
        rows = []
        for (action, obj, _), event_id, details in zip(events, ids, stored_details):
            event = AuditEvent(
                id=event_id, action=action, actor=actor, actor_label=label,
                object_type=obj._meta.label_lower if obj is not None else "",
                object_id=str(obj.pk) if obj is not None else "",
                object_repr=str(obj)[:300] if obj is not None else "",
                ip=ip, details=json.loads(details), previous_hash=previous_hash, at=timezone.now(),
            )
            event.hash = audit_hash(
                id=event.id, at=event.at, actor_id=event.actor_id, actor_label=event.actor_label, action=event.action,
                object_type=event.object_type, object_id=event.object_id, object_repr=event.object_repr, ip=event.ip,
                details=event.details, previous_hash=event.previous_hash,
            )
            previous_hash = event.hash
            rows.append(event)
        AuditEvent.objects.bulk_create(rows)
    return rows


def client_ip(request) -> str | None:
    """The client's address, as both the audit log and the login lockout see it.

    Without BEHIND_PROXY it is the connecting address and X-Forwarded-For is ignored:
    anyone can send that header. Behind TRUSTED_PROXY_COUNT proxies, each proxy appends
    the address that connected to it, so the right-most N entries are theirs and the
    left-most of those, written by the outermost proxy, is the client. Anything further
    left came from the client itself and is never used. A header with fewer entries
    than proxies, or an entry that is not an address, did not come through every
    proxy: the connecting address is used instead.
    """
    from django.conf import settings

    remote = _address_or_none(request.META.get("REMOTE_ADDR", ""))
    if not settings.BEHIND_PROXY:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    count = settings.TRUSTED_PROXY_COUNT
    if len(forwarded) < count:
        return remote
    return _address_or_none(forwarded[-count]) or remote


def _address_or_none(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


PURGE_ACTION = "audit_log.purge"


def audit_log_purge_through(cutoff) -> int | None:
    """The id of the newest event a purge at `cutoff` deletes (with every older one), or None for none.

    The newest event of all always stays, so the chain goes on from it.
    """
    newest = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    return AuditEvent.objects.filter(at__lt=cutoff, id__lt=newest or 0).order_by("-id").values_list("id", flat=True).first()


def audit_log_purge(*, cutoff, basis: str, triggered_by: str = "system", policy=None):
    """Delete the audit events older than `cutoff`, oldest first, and record it; the only way audit rows go.

    Only a run of the oldest events is deleted, so the rest still forms one chain
    from its oldest event, and the newest event always stays so the chain goes on
    from it. The purge's own event records the previous hash the oldest remaining
    event must hold: verification checks it, so deleting the oldest events any
    other way shows as a break. Runs under the chain's lock, so no event is
    appended while the boundary moves.
    """
    from governance.models import PurgeRecord

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK_KEY])
        through = audit_log_purge_through(cutoff)
        deleted = 0
        if through is not None:
            # The model refuses deletes; this is the one place that may.
            cursor.execute("DELETE FROM governance_auditevent WHERE id <= %s", [through])
            deleted = cursor.rowcount
        oldest = AuditEvent.objects.order_by("id").values_list("previous_hash", flat=True).first()
        record = PurgeRecord.objects.create(
            category=PurgeRecord.Category.AUDIT_LOG, cutoff=cutoff, counts={"audit_events": deleted},
            basis=basis[:300], triggered_by=triggered_by[:150], policy=policy,
        )
        audit_event_record(
            action=PURGE_ACTION, actor_label=triggered_by[:150], obj=record,
            details={"cutoff": cutoff.isoformat(), "deleted": deleted, "through_id": through,
                     "oldest_previous_hash": oldest or GENESIS_HASH},
        )
    return record
