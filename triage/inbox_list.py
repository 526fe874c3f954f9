"""The inbox list: filters read from the address, keyset pages, capped counts per filter value.

A page is one query (`inbox_page`): the items, their mention, case, latest decision and
the team's saved-search hits, all as columns of one row each. The counts are one more
query (`inbox_counts`). So the page costs the same number of queries whatever its size
and whatever the filters.

Pages are keyset, never OFFSET: open items by id (arrival order); decided items by
(decided_at, id), so ties on the time stay in a stable order.

Counts per filter value are exact up to `COUNT_CAP` and shown as "1,000+" beyond it:
each value's count stops reading after `COUNT_CAP + 1` rows, so a count costs at most
that many index entries, however large the inbox. A facet's counts apply every other
filter in force, not its own.
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import Exists, OuterRef, Subquery
from django.db.models.functions import JSONObject
from django.utils import timezone

from listening.models import MentionHit, Platform, SavedSearch
from triage.inbox_search import MentionSearch, ParsedSearch, SearchHeadline, SearchTooLong, search_parse
from triage.models import Case, Decision, InboxItem, Outcome

PAGE_SIZE = 50
COUNT_CAP = 1000

STATUSES = [("open", "Open"), ("new", "New"), ("in_progress", "In progress"), ("done", "Decided")]
ASSIGNEES = [("mine", "Mine"), ("none", "Unassigned")]
CASES = [("yes", "With a case"), ("no", "Without a case")]
SORTS = [("newest", "Newest first"), ("oldest", "Oldest first")]
# The parameters a list address may carry, in the order they are written.
PARAMETERS = ("status", "outcome", "platform", "search", "assignee", "case", "since", "until", "sort", "q", "cursor")


@dataclass(frozen=True)
class InboxFilters:
    status: str = "open"
    outcome: str = ""
    platform: str = ""
    search: str = ""  # a saved search's id
    assignee: str = ""  # mine, none, or a person's id
    case: str = ""
    since: str = ""  # YYYY-MM-DD, the first UK day an item arrived
    until: str = ""  # YYYY-MM-DD, the last
    sort: str = "newest"
    q: str = ""
    cursor: str = ""
    parsed: ParsedSearch = field(default_factory=ParsedSearch, compare=False, repr=False)

    @property
    def decided(self) -> bool:
        return self.status == "done"

    def query_string(self, **changes) -> str:
        """This view's address parameters, with `changes`; defaults and the cursor (unless given) left out."""
        changes.setdefault("cursor", "")
        values = {name: getattr(self, name) for name in PARAMETERS} | changes
        defaults = {name: getattr(InboxFilters, name) for name in PARAMETERS}
        pairs = [(name, values[name]) for name in PARAMETERS if values[name] and values[name] != defaults[name]]
        return "?" + urlencode(pairs) if pairs else "?"

    @property
    def any_narrowing(self) -> bool:
        return any(getattr(self, name) for name in ("outcome", "platform", "search", "assignee", "case", "since", "until", "q"))


def _day(raw: str) -> str | None:
    try:
        return date.fromisoformat(raw).isoformat() if len(raw) == 10 else None
    except ValueError:
        return None


def filters_read(params, *, search_ids: set[int], member_ids: set[int]) -> tuple[InboxFilters, list[str]]:
    """The filters from a query string, and a message for each value that was not understood (and ignored)."""
    problems = []

    def pick(name, allowed, default=""):
        raw = params.get(name, "")
        if raw == "" or raw in allowed:
            return raw or default
        problems.append(f"Unknown {name.replace('_', ' ')} “{raw[:40]}” ignored.")
        return default

    status = pick("status", {value for value, _ in STATUSES}, "open")
    outcome = pick("outcome", set(Outcome.values))
    if outcome:
        status = "done"  # an outcome belongs to a decision
    platform = pick("platform", set(Platform.values))
    search = pick("search", {str(n) for n in search_ids})
    assignee = pick("assignee", {"mine", "none"} | {str(n) for n in member_ids})
    case = pick("case", {"yes", "no"})
    sort = pick("sort", {"newest", "oldest"}, "newest")
    since, until = params.get("since", ""), params.get("until", "")
    if since and _day(since) is None:
        problems.append("The “from” date must be a date (YYYY-MM-DD); it was ignored.")
        since = ""
    if until and _day(until) is None:
        problems.append("The “to” date must be a date (YYYY-MM-DD); it was ignored.")
        until = ""
    q = params.get("q", "")
    try:
        parsed = search_parse(q)
    except SearchTooLong as error:
        problems.append(str(error))
        q, parsed = "", ParsedSearch()
    q = parsed.text
    if q and not parsed:
        problems.append("Nothing to search for: add a word, a #tag, an @handle or a link.")
    filters = InboxFilters(
        status=status, outcome=outcome, platform=platform, search=search, assignee=assignee, case=case,
        since=since, until=until, sort=sort, q=q, cursor=params.get("cursor", "")[:80], parsed=parsed,
    )
    return filters, problems


def _uk_midnight(day: str) -> datetime:
    return timezone.make_aware(datetime.combine(date.fromisoformat(day), time.min))


def _latest_outcome():
    return Subquery(Decision.objects.filter(item_id=OuterRef("pk")).order_by("-decided_at", "-id").values("outcome")[:1])


def filtered_items(*, team_id: int, filters: InboxFilters, user_id: int, without: str = ""):
    """The team's items that pass every filter but `without` (for that facet's counts). Unordered."""
    f = filters
    items = InboxItem.objects.filter(team_id=team_id)
    if without != "status":
        items = items.exclude(status=InboxItem.Status.DONE) if f.status == "open" else items.filter(status=f.status)
    if f.outcome and without != "outcome":
        items = items.alias(latest_outcome=_latest_outcome()).filter(latest_outcome=f.outcome)
    if f.platform and without != "platform":
        items = items.filter(mention__platform=f.platform)
    if f.search and without != "search":
        items = items.filter(
            Exists(MentionHit.objects.filter(mention_id=OuterRef("mention_id"), saved_search_id=int(f.search)))
        )
    if f.assignee and without != "assignee":
        if f.assignee == "mine":
            items = items.filter(assignee_id=user_id)
        elif f.assignee == "none":
            items = items.filter(assignee__isnull=True)
        else:
            items = items.filter(assignee_id=int(f.assignee))
    if f.case and without != "case":
        has_case = Exists(Case.objects.filter(item_id=OuterRef("pk")))
        items = items.filter(has_case if f.case == "yes" else ~has_case)
    if f.since:
        items = items.filter(created_at__gte=_uk_midnight(f.since))
    if f.until:
        items = items.filter(created_at__lt=_uk_midnight(f.until) + timedelta(days=1))
    if f.q:
        items = items.filter(MentionSearch(f.parsed))
    return items


# Keyset cursors ------------------------------------------------------------------------


def _cursor_read(raw: str, decided: bool):
    """(decided_at, id) or (None, id) from a cursor; None if it is not one of ours."""
    when, _, number = raw.rpartition("_") if decided else ("", "", raw)
    if not (number.isascii() and number.isdigit() and len(number) <= 18):
        return None
    if not decided:
        return None, int(number)
    try:
        moment = datetime.fromisoformat(when)
    except ValueError:
        return None
    return (moment, int(number)) if moment.tzinfo is not None else None


def _cursor_write(item, decided: bool) -> str:
    return f"{item.decided_at.isoformat()}_{item.id}" if decided and item.decided_at else str(item.id)


def _ordered(items, filters: InboxFilters):
    newest = filters.sort != "oldest"
    after = _cursor_read(filters.cursor, filters.decided) if filters.cursor else None
    if filters.decided:
        if after is not None:
            moment, number = after
            if newest:
                items = items.filter(decided_at__lte=moment).exclude(decided_at=moment, id__gte=number)
            else:
                items = items.filter(decided_at__gte=moment).exclude(decided_at=moment, id__lte=number)
        return items.order_by(*(("-decided_at", "-id") if newest else ("decided_at", "id")))
    if after is not None:
        items = items.filter(id__lt=after[1]) if newest else items.filter(id__gt=after[1])
    return items.order_by("-id" if newest else "id")


# The page -------------------------------------------------------------------------------


@dataclass
class InboxPage:
    rows: list
    next_query: str  # the address of the next page, or ""


def _annotated(items, *, team_id: int, parsed: ParsedSearch | None = None):
    """Everything a row shows, as columns of the item's own row: no query per row, no prefetch."""
    hits = (
        MentionHit.objects.filter(mention_id=OuterRef("mention_id"), saved_search__team_id=team_id)
        .order_by("saved_search_id")
        .values(json=JSONObject(name="saved_search__name", spans="spans"))
    )
    decision = (
        Decision.objects.filter(item_id=OuterRef("pk"))
        .order_by("-decided_at", "-id")
        .values(json=JSONObject(
            outcome="outcome", request_type="request_type", note="note", at="decided_at", by="decided_by__username"
        ))[:1]
    )
    items = items.select_related("mention", "case").annotate(hit_list=ArraySubquery(hits), decision_json=Subquery(decision))
    if parsed:
        items = items.annotate(found_text=SearchHeadline(parsed, "text"), found_title=SearchHeadline(parsed, "title"))
    return items


def inbox_page(*, team_id: int, filters: InboxFilters, user_id: int, page_size: int | None = None) -> InboxPage:
    """One page of the team's inbox, in one query."""
    from triage.inbox_rows import row_build

    page_size = page_size or PAGE_SIZE
    items = filtered_items(team_id=team_id, filters=filters, user_id=user_id)
    items = _annotated(items, team_id=team_id, parsed=filters.parsed if filters.q else None)
    items = list(_ordered(items, filters)[: page_size + 1])
    more, items = len(items) > page_size, items[:page_size]
    next_query = filters.query_string(cursor=_cursor_write(items[-1], filters.decided)) if more else ""
    return InboxPage(rows=[row_build(item) for item in items], next_query=next_query)


def inbox_row(*, item_id: int, team_id: int):
    """One item's row (the item page shows it as the list does), or None."""
    from triage.inbox_rows import row_build

    item = _annotated(InboxItem.objects.filter(pk=item_id, team_id=team_id), team_id=team_id).first()
    return row_build(item) if item else None


# The counts -----------------------------------------------------------------------------


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    query: str  # the address with this value chosen (or, when it is chosen, cleared)
    selected: bool

    @property
    def count_label(self) -> str:
        return f"{COUNT_CAP:,}+" if self.count > COUNT_CAP else f"{self.count:,}"


@dataclass
class Facet:
    name: str
    label: str
    values: list[FacetValue]


def _capped_count_sql(queryset) -> tuple[str, list]:
    sql, params = queryset.values("pk")[: COUNT_CAP + 1].query.sql_with_params()
    return f"(SELECT count(*) FROM ({sql}) AS capped)", list(params)


def inbox_counts(*, team_id: int, filters: InboxFilters, user_id: int, searches, platforms) -> list[Facet]:
    """For every value of every facet, how many items it would show (up to COUNT_CAP), in one query."""
    wanted = []  # (facet, value, label, queryset)
    base = {name: filtered_items(team_id=team_id, filters=filters, user_id=user_id, without=name)
            for name in ("status", "outcome", "platform", "search", "assignee", "case")}
    for value, label in STATUSES:
        wanted.append(("status", value, label, filtered_items(
            team_id=team_id, filters=replace(filters, status=value, outcome=""), user_id=user_id, without="outcome")))
    if filters.decided:
        for value, label in Outcome.choices:
            wanted.append(("outcome", value, label, base["outcome"].alias(latest_outcome=_latest_outcome()).filter(latest_outcome=value)))
    for value, label in platforms:
        wanted.append(("platform", value, label, base["platform"].filter(mention__platform=value)))
    for search in searches:
        wanted.append(("search", str(search.id), search.name, base["search"].filter(
            Exists(MentionHit.objects.filter(mention_id=OuterRef("mention_id"), saved_search_id=search.id)))))
    wanted.append(("assignee", "mine", "Mine", base["assignee"].filter(assignee_id=user_id)))
    wanted.append(("assignee", "none", "Unassigned", base["assignee"].filter(assignee__isnull=True)))
    has_case = Exists(Case.objects.filter(item_id=OuterRef("pk")))
    wanted.append(("case", "yes", "With a case", base["case"].filter(has_case)))
    wanted.append(("case", "no", "Without a case", base["case"].filter(~has_case)))

    selects, params = [], []
    for *_, queryset in wanted:
        sql, more = _capped_count_sql(queryset)
        selects.append(sql)
        params += more
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(selects), params)
        counts = cursor.fetchone()

    labels = {"status": "Status", "outcome": "Outcome", "platform": "Platform", "search": "Saved search",
              "assignee": "Assigned", "case": "Case"}
    facets: dict[str, Facet] = {}
    for (name, value, label, _), count in zip(wanted, counts):
        facet = facets.setdefault(name, Facet(name, labels[name], []))
        selected = getattr(filters, name) == value
        changes = {name: "" if selected and name != "status" else value}
        if name == "status":
            changes["outcome"] = ""
        facet.values.append(FacetValue(value, label, count, filters.query_string(**changes), selected))
    return list(facets.values())


def team_searches(team_id: int):
    return list(SavedSearch.objects.filter(team_id=team_id, archived_at__isnull=True).order_by("name").only("id", "name"))
