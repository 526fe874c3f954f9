"""Erasing a person's data by handle: a preview that counts, then the erasure, in one transaction each.

The preview runs the erasure itself and rolls it back, so its counts are exactly what
the erasure then does; the erasure refuses if they differ (something arrived or
changed since) and shows the new counts instead.
"""

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from governance.models import ErasureRecord
from governance.services import audit_event_record
from governance.subject_access.finding import (
    Findings,
    bounded_statement_time,
    statement_timeout_refused,
    subject_access_find,
)
from governance.subject_access.matching import Matcher, Subject
from governance.subject_access.suppression import suppression_add
from listening.models import Mention, WatchListMember
from foi_monitoring.models import AuthoritySignal
from triage.models import Case, CaseEvent, Circulation, ClockPause, Decision

REASON_MAX = 300
ERASE_ACTION = "subject.erase"


class ErasureRefused(ValueError):
    """The erasure cannot go ahead as asked; the message says why. Nothing was changed."""


def erased_marker(day=None) -> str:
    return f"[erased on {(day or timezone.localdate()).isoformat()}]"


def _label(model, action: str) -> str:
    return f"{model._meta.label}:{action}"


def _add(counts: dict, key: str, n: int) -> None:
    if n:
        counts[key] = counts.get(key, 0) + n


def _blockers(found: Findings) -> str:
    if found.saved_searches:
        names = ", ".join(f"{s.team}: {s.name}" for s in found.saved_searches[:5])
        return (f"{len(found.saved_searches)} saved search(es) name this person ({names}). Change their queries first: "
                "otherwise Earshot would collect their posts again.")
    return ""


def _apply(subject: Subject, marker: str) -> dict[str, int]:
    """Delete or anonymise every row that holds the subject's data; returns rows per table and action.

    1. Their posts under a case stay, anonymised, with the case's history; the case
       keeps its reference, dates and outcome. Their other posts go, and with them the
       inbox items, decisions, hits and signals that hang on them.
    2. Circulations of their posts stay (what was shared is disclosable) without the post.
    3. Watch-list memberships and FOI signals naming them as author go.
    4. Posts by others that mention them lose the references and their raw payload.
    5. Every other place of free text loses the references (places.TEXT_PLACES).
    """
    bounded_statement_time()
    found = subject_access_find(subject)
    if problem := _blockers(found):
        raise ErasureRefused(problem)
    matcher = Matcher(subject)
    counts: dict[str, int] = {}
    written_ids = [m.pk for m in found.written]
    kept_cases = list(Case.objects.select_for_update().filter(item__mention_id__in=written_ids))
    kept_item_ids = {c.item_id for c in kept_cases}
    kept_mention_ids = set(Mention.objects.filter(inbox_items__id__in=kept_item_ids).values_list("pk", flat=True))

    # 1. Posts under a kept case: the row stays (the case hangs on it), its content does not.
    for mention in Mention.objects.select_for_update().filter(pk__in=kept_mention_ids):
        mention.external_id = f"erased-{mention.pk}"
        mention.author_handle = mention.author_name = mention.text = marker
        mention.title = mention.url = mention.in_reply_to_handle = ""
        mention.links, mention.mentions, mention.raw = [], [], {}
        mention.save(update_fields=["external_id", "author_handle", "author_name", "text", "title", "url",
                                    "in_reply_to_handle", "links", "mentions", "raw"])
    _add(counts, _label(Mention, "anonymised"), len(kept_mention_ids))
    _add(counts, _label(Decision, "anonymised"),
         Decision.objects.filter(item_id__in=kept_item_ids).exclude(note="").update(note=marker))
    _add(counts, _label(Case, "anonymised"), len(kept_cases))
    Case.objects.filter(pk__in=[c.pk for c in kept_cases]).exclude(extension_reason="").update(extension_reason=marker)
    _add(counts, _label(CaseEvent, "anonymised"),
         CaseEvent.objects.filter(case__in=kept_cases).exclude(note="").update(note=marker))
    _add(counts, _label(ClockPause, "anonymised"),
         ClockPause.objects.filter(case__in=kept_cases).update(reason=marker))
    _add(counts, _label(AuthoritySignal, "deleted"),
         AuthoritySignal.objects.filter(mention_id__in=kept_mention_ids).delete()[0])

    # 2. Circulations of their posts: kept as a record of what was sent, without the post.
    for circulation in Circulation.objects.select_for_update().filter(
        pk__in=[c.pk for c in found.circulations if c.mention_id in written_ids or c.item_id in {i.pk for i in found.items}]
    ):
        circulation.subject = f"Circulated: {marker}"
        circulation.mention_author = marker
        circulation.mention_url = ""
        circulation.note = marker if circulation.note else ""
        circulation.payload = matcher.redact(circulation.payload, marker)
        circulation.save(update_fields=["subject", "mention_author", "mention_url", "note", "payload"])
        _add(counts, _label(Circulation, "anonymised"), 1)

    # 1 (continued). Their other posts, and what hangs on them.
    _, deleted = Mention.objects.filter(pk__in=set(written_ids) - kept_mention_ids).delete()
    for label, n in deleted.items():
        _add(counts, f"{label}:deleted", n)

    # 3. Where they are named as an author or a watched account.
    _add(counts, _label(AuthoritySignal, "deleted"),
         AuthoritySignal.objects.filter(author_key=subject.author_key).delete()[0])
    _add(counts, _label(WatchListMember, "deleted"),
         WatchListMember.objects.filter(platform=subject.platform, handle__iexact=subject.handle).delete()[0])

    # 4. Posts by others that mention them.
    for mention in Mention.objects.select_for_update().filter(pk__in=[m.pk for m in found.about]):
        mention.text, mention.title = matcher.redact(mention.text, marker), matcher.redact(mention.title, marker)
        mention.mentions = [h for h in mention.mentions if not matcher.found(h)]
        mention.links = [link for link in mention.links if not matcher.found(link)]
        if matcher.found(mention.in_reply_to_handle):
            mention.in_reply_to_handle = ""
        if matcher.found(mention.url):
            mention.url = ""
        # The platform's payload names them in ways the pattern cannot all see (ids, avatars): it goes.
        mention.raw = {}
        mention.save(update_fields=["text", "title", "mentions", "links", "in_reply_to_handle", "url", "raw"])
        _add(counts, _label(Mention, "redacted"), 1)

    # 5. Free text everywhere else.
    from governance.subject_access.places import TEXT_PLACES

    for label, fields in TEXT_PLACES:
        model = apps.get_model(label)
        for row in matcher.candidates(model.objects.select_for_update(of=("self",)), fields):
            changed = [name for name in fields if matcher.found(getattr(row, name))]
            for name in changed:
                setattr(row, name, matcher.redact(getattr(row, name), marker))
            # The admin log's row is Django's own; save() through the model writes the same columns.
            model.objects.filter(pk=row.pk).update(**{name: getattr(row, name) for name in changed})
            _add(counts, _label(model, "redacted"), 1)
    return counts


def erasure_preview(*, subject: Subject) -> dict[str, int]:
    """What the erasure would do now, per table: the erasure run and rolled back."""
    with statement_timeout_refused(), transaction.atomic():
        counts = _apply(subject, erased_marker())
        transaction.set_rollback(True)
    return counts


def erasure_reason_clean(*, subject: Subject, reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ErasureRefused("Give the reason for the erasure (for example the request's reference).")
    if len(reason) > REASON_MAX:
        raise ErasureRefused(f"Keep the reason under {REASON_MAX} characters.")
    matcher = Matcher(subject)
    if matcher.found(reason) or any(needle.lower() in reason.lower() for needle in matcher.needles):
        raise ErasureRefused("Leave the handle and the name out of the reason: the erasure record is kept.")
    return reason


def subject_erase(*, subject: Subject, reason: str, expected: dict, actor, ip: str | None = None,
                  stop_collecting: bool = True) -> ErasureRecord:
    """Erase the subject's data if it is still what the preview counted; record counts only.

    With `stop_collecting`, their posts are not stored again (subject_access.suppression).
    """
    reason = erasure_reason_clean(subject=subject, reason=reason)
    with statement_timeout_refused(), transaction.atomic():
        counts = _apply(subject, erased_marker())
        if counts != expected:
            raise ErasureChanged(counts)
        if not counts:
            raise ErasureRefused("Earshot holds nothing about this person: there is nothing to erase.")
        record = ErasureRecord.objects.create(erased_by=actor, platform=subject.platform, reason=reason, counts=counts)
        if stop_collecting:
            suppression_add(platform=subject.platform, handle=subject.handle, erasure=record)
        audit_event_record(action=ERASE_ACTION, actor=actor, obj=record, ip=ip,
                           details={"platform": subject.platform, "counts": counts, "collection_stopped": stop_collecting})
    return record


class ErasureChanged(ErasureRefused):
    """What Earshot holds changed since the preview; `counts` is what the erasure would do now."""

    def __init__(self, counts: dict):
        super().__init__("What Earshot holds about this person changed since the preview. Check the new counts and "
                         "erase again. Nothing was changed.")
        self.counts = counts
