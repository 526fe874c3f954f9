"""A subject access export: one zip holding everything found, as JSON and as one CSV per section."""

import csv
import io
import json
import zipfile

from django.utils import timezone

from governance.subject_access.finding import Findings


def _when(value):
    return value.isoformat() if value else None


def _mention(m) -> dict:
    return {
        "id": m.pk, "platform": m.platform, "external_id": m.external_id, "url": m.url,
        "author_handle": m.author_handle, "author_name": m.author_name, "text": m.text, "title": m.title,
        "lang": m.lang, "links": list(m.links), "mentions": list(m.mentions), "in_reply_to_handle": m.in_reply_to_handle,
        "kind": m.kind, "posted_at": _when(m.posted_at), "first_seen_at": _when(m.first_seen_at), "raw": m.raw,
    }


def _item(i) -> dict:
    return {"id": i.pk, "mention_id": i.mention_id, "team": i.team.name, "status": i.status,
            "created_at": _when(i.created_at), "decided_at": _when(i.decided_at)}


def _decision(d) -> dict:
    return {"id": d.pk, "inbox_item_id": d.item_id, "outcome": d.outcome, "request_type": d.request_type,
            "note": d.note, "decided_at": _when(d.decided_at)}


def _case(c) -> dict:
    return {
        "reference": c.reference, "team": c.team.name, "kind": c.kind, "request_type": c.request_type,
        "status": c.status, "resolution": c.resolution, "received_on": _when(c.received_on),
        "due_date": _when(c.due_date), "closed_at": _when(c.closed_at), "extension_reason": c.extension_reason,
        "history": [{"at": _when(e.at), "action": e.action, "note": e.note} for e in c.events.all()],
        "clock_pauses": [{"paused_on": _when(p.paused_on), "reason": p.reason, "resumed_on": _when(p.resumed_on)}
                         for p in c.pauses.all()],
    }


def _circulation(c) -> dict:
    return {"id": c.pk, "kind": c.kind, "team": c.team.name, "created_at": _when(c.created_at), "subject": c.subject,
            "note": c.note, "post_author": c.mention_author, "post_url": c.mention_url,
            "sent_to": [r.team.name for r in c.recipients.all()]}


def _signal(s) -> dict:
    return {"id": s.pk, "authority": s.authority.name, "signals": list(s.codes), "mention_id": s.mention_id,
            "occurred_at": _when(s.occurred_at), "collected_at": _when(s.collected_at)}


def _member(m) -> dict:
    return {"watch_list": m.watch_list.name, "platform": m.platform, "handle": m.handle}


def _search(s) -> dict:
    return {"team": s.team.name, "name": s.name, "query": s.query, "purpose": s.purpose}


def _text(t) -> dict:
    return {"table": t.table, "id": t.pk, "text": t.fields}


SERIALISERS = {
    "written": _mention, "about": _mention, "items": _item, "decisions": _decision, "cases": _case,
    "circulations": _circulation, "signals": _signal, "watch_list_members": _member, "saved_searches": _search,
    "other_text": _text,
}


def findings_as_dict(found: Findings) -> dict:
    return {name: [SERIALISERS[name](row) for row in rows] for name, _, rows in found.sections()}


def _cell(value) -> str:
    # Spreadsheet formula injection: every value here may be text a post's author wrote.
    text = "" if value is None else (value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    columns = list(rows[0]) if rows else []
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in columns])
    return out.getvalue()


def subject_access_zip(found: Findings) -> bytes:
    """The zip: README.txt, everything.json, and <section>.csv for each section."""
    data = findings_as_dict(found)
    made_at = timezone.localtime()
    summary = {
        "platform": found.subject.platform, "handle": found.subject.handle, "display_name": found.subject.name,
        "made_at": made_at.isoformat(), "counts": found.counts(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", (
            f"What Earshot holds about @{found.subject.handle} on {found.subject.platform_label}, "
            f"as at {made_at:%d %B %Y %H:%M}.\n\n"
            "everything.json holds it all; each CSV file holds one section:\n"
            + "".join(f"  {name}.csv: {label} ({len(rows)})\n" for name, label, rows in found.sections())
        ))
        archive.writestr("everything.json", json.dumps({"summary": summary, **data}, ensure_ascii=False, indent=2))
        for name, rows in data.items():
            archive.writestr(f"{name}.csv", _csv(rows))
    return buffer.getvalue()


EXPORT_ACTION = "subject_access.export"


def subject_access_export(*, found: Findings, actor, ip: str | None = None) -> bytes:
    """The zip, with its audit row: the platform and the counts, never the handle or the name."""
    from django.db import transaction

    from governance.services import audit_event_record

    with transaction.atomic():
        content = subject_access_zip(found)
        audit_event_record(action=EXPORT_ACTION, actor=actor, ip=ip,
                           details={"platform": found.subject.platform, "counts": found.counts()})
    return content
