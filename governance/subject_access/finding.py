"""Everything Earshot holds about a subject: the search behind the summary page, the export and the erasure."""

from contextlib import contextmanager
from dataclasses import dataclass, field

from django.apps import apps
from django.db import OperationalError, connection, transaction
from django.db.models import Q

from foi_monitoring.models import AuthoritySignal
from governance.subject_access.matching import CANDIDATES_MAX, Matcher, Subject, SubjectError
from governance.subject_access.places import MENTION_FIELDS, TEXT_PLACES
from listening.models import Mention, SavedSearch, WatchListMember
from triage.models import Case, Circulation, Decision, InboxItem

# How long one search may run in PostgreSQL before it is stopped.
STATEMENT_TIMEOUT_MS = 60_000
# The places shown in their own sections rather than as "other text".
_SECTIONED = {"triage.Decision", "triage.Case", "triage.CaseEvent", "triage.ClockPause", "triage.Circulation"}


@dataclass
class TextMatch:
    """A row of free text that refers to the subject."""

    label: str  # app_label.Model
    pk: int
    fields: dict  # field name -> value, only the fields that refer to them

    @property
    def table(self) -> str:
        return str(apps.get_model(self.label)._meta.verbose_name_plural)


@dataclass
class Findings:
    subject: Subject
    written: list = field(default_factory=list)  # Mentions they wrote
    about: list = field(default_factory=list)  # Mentions by others that refer to them
    items: list = field(default_factory=list)  # InboxItems of their posts
    decisions: list = field(default_factory=list)
    cases: list = field(default_factory=list)
    circulations: list = field(default_factory=list)
    signals: list = field(default_factory=list)
    watch_list_members: list = field(default_factory=list)
    saved_searches: list = field(default_factory=list)  # queries that name them: the erasure waits for these
    other_text: list = field(default_factory=list)  # TextMatch rows elsewhere

    SECTIONS = (
        ("written", "Posts they wrote"),
        ("about", "Posts that mention them"),
        ("items", "Inbox items for their posts"),
        ("decisions", "Triage decisions"),
        ("cases", "Cases"),
        ("circulations", "Circulations"),
        ("signals", "FOI monitoring signals"),
        ("watch_list_members", "Watch lists"),
        ("saved_searches", "Saved searches that name them"),
        ("other_text", "Notes and other text that refer to them"),
    )

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name, _ in self.SECTIONS}

    @property
    def total(self) -> int:
        return sum(self.counts().values())

    def sections(self):
        return [(name, label, getattr(self, name)) for name, label in self.SECTIONS]


def _limited(queryset, what: str) -> list:
    rows = list(queryset[: CANDIDATES_MAX + 1])
    if len(rows) > CANDIDATES_MAX:
        raise SubjectError(f"They have more than {CANDIDATES_MAX:,} {what}: too many to handle in one request.")
    return rows


def bounded_statement_time() -> None:
    """Stop any one statement of the current transaction after STATEMENT_TIMEOUT_MS."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL statement_timeout = {int(STATEMENT_TIMEOUT_MS)}")


@contextmanager
def statement_timeout_refused():
    """Turn a statement stopped by STATEMENT_TIMEOUT_MS into a SubjectError with a message."""
    try:
        yield
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", "") == "57014":  # query_canceled
            raise SubjectError(
                f"The search took longer than {STATEMENT_TIMEOUT_MS // 1000} seconds and was stopped. Nothing was changed."
            ) from None
        raise


def subject_access_find(subject: Subject) -> Findings:
    """Search every place that can hold the subject's data (governance.subject_access.places)."""
    with statement_timeout_refused():
        return _find(subject)


def _find(subject: Subject) -> Findings:
    matcher = Matcher(subject)
    found = Findings(subject=subject)
    with transaction.atomic():
        bounded_statement_time()
        written = Mention.objects.filter(platform=subject.platform, author_handle__iexact=subject.handle)
        found.written = _limited(written.order_by("posted_at", "id"), "posts")
        written_ids = {m.pk for m in found.written}
        found.about = [m for m in matcher.candidates(Mention.objects.exclude(pk__in=written_ids), MENTION_FIELDS)]
        found.items = _limited(
            InboxItem.objects.filter(mention_id__in=written_ids).select_related("team").order_by("id"), "inbox items"
        )
        item_ids = {i.pk for i in found.items}

        texts = {label: matcher.candidates(apps.get_model(label).objects.all(), fields) for label, fields in TEXT_PLACES}
        decision_ids = {d.pk for d in texts["triage.Decision"]}
        found.decisions = _limited(
            Decision.objects.filter(Q(item_id__in=item_ids) | Q(pk__in=decision_ids)).order_by("decided_at", "id"), "decisions"
        )
        case_ids = {c.pk for c in texts["triage.Case"]} | {e.case_id for e in texts["triage.CaseEvent"]} | {
            p.case_id for p in texts["triage.ClockPause"]}
        found.cases = _limited(
            Case.objects.filter(Q(item_id__in=item_ids) | Q(pk__in=case_ids)).select_related("team")
            .prefetch_related("events", "pauses").order_by("id"), "cases",
        )
        circulation_ids = {c.pk for c in texts["triage.Circulation"]}
        found.circulations = _limited(
            Circulation.objects.filter(Q(mention_id__in=written_ids) | Q(item_id__in=item_ids) | Q(pk__in=circulation_ids))
            .select_related("team").prefetch_related("recipients__team").order_by("id"), "circulations",
        )
        found.signals = _limited(
            AuthoritySignal.objects.filter(Q(mention_id__in=written_ids) | Q(author_key=subject.author_key))
            .select_related("authority").order_by("occurred_at", "id"), "signals",
        )
        found.watch_list_members = list(
            WatchListMember.objects.filter(platform=subject.platform, handle__iexact=subject.handle).select_related("watch_list")
        )
        found.saved_searches = matcher.candidates(SavedSearch.objects.select_related("team"), ["query"])
        for label, fields in TEXT_PLACES:
            if label in _SECTIONED:
                continue
            for row in texts[label]:
                found.other_text.append(TextMatch(
                    label=label, pk=row.pk,
                    fields={name: getattr(row, name) for name in fields if matcher.found(getattr(row, name))},
                ))
    return found
