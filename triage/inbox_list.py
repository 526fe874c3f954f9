"""The inbox list: filters read from the address, keyset pages, bounded counts per filter value.

A page is one query (`inbox_page`): the items, their mention, case, latest decision and
the team's saved-search hits, all as columns of one row each. The counts are one more
query (`inbox_counts`). So the page costs the same number of queries whatever its size
and whatever the filters.

Pages are keyset, never OFFSET: open items by id (arrival order); decided items by
(decided_at, id), so ties on the time stay in a stable order.

Counts per filter value are one pass over a bounded window: the newest `COUNT_WINDOW`
items in the date range and search. They are exact while the team has no more items
than that, and lower bounds ("312+") when it has; either way a count never reads more
than `COUNT_WINDOW` rows, however large the inbox. A facet's counts apply every other
filter in force, not its own.
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import BigIntegerField, BooleanField, Case, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import JSONObject
from django.utils import timezone

from listening.models import MentionHit, Platform, SavedSearch
from triage.inbox_search import MentionSearch, ParsedSearch, SearchHeadline, SearchTooLong, search_parse
from triage.models import Case as CaseModel
from triage.models import Decision, InboxItem, Outcome

PAGE_SIZE = 50
COUNT_WINDOW = 10_000
SEARCH_WINDOW = 10_000  # items a search page reads at most (see _search_window_end)

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
    """A YYYY-MM-DD day within reason (so a day after it, or its midnight in UTC, always exists)."""
    try:
        day = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        return None
    return day.isoformat() if day and 1900 <= day.year <= 2200 else None


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
    # An undone decision stays in the history but no longer counts (triage/undo.py).
    return Subquery(
        Decision.objects.filter(item_id=OuterRef("pk"), undone_at__isnull=True)
        .order_by("-decided_at", "-id").values("outcome")[:1]
    )


def filtered_items(*, team_id: int, filters: InboxFilters, user_id: int):
    """The team's items that pass every filter. Unordered."""
    f = filters
    # A group of reposts and copies shows once, as its leader (triage/grouping.py).
    items = InboxItem.objects.filter(team_id=team_id, group__isnull=True)
    if f.status == "open":
        items = items.exclude(status=InboxItem.Status.DONE)
    elif f.status != "all":
        items = items.filter(status=f.status)
    if f.outcome:
        items = items.alias(latest_outcome=_latest_outcome()).filter(latest_outcome=f.outcome)
    if f.platform:
        items = items.filter(mention__platform=f.platform)
    if f.search:
        items = items.filter(
            Exists(MentionHit.objects.filter(mention_id=OuterRef("mention_id"), saved_search_id=int(f.search)))
        )
    if f.assignee:
        if f.assignee == "mine":
            items = items.filter(assignee_id=user_id)
        elif f.assignee == "none":
            items = items.filter(assignee__isnull=True)
        else:
            items = items.filter(assignee_id=int(f.assignee))
    if f.case:
        has_case = Exists(CaseModel.objects.filter(item_id=OuterRef("pk")))
        items = items.filter(has_case if f.case == "yes" else ~has_case)
    if f.since:
        items = items.filter(created_at__gte=_uk_midnight(f.since))
    if f.until:
        items = items.filter(created_at__lt=_uk_midnight(f.until) + timedelta(days=1))
    if f.q and f.parsed:
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


def _order_fields(filters: InboxFilters) -> tuple[str, ...]:
    newest = filters.sort != "oldest"
    if filters.decided:
        return ("-decided_at", "-id") if newest else ("decided_at", "id")
    return ("-id",) if newest else ("id",)


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
    elif after is not None:
        items = items.filter(id__lt=after[1]) if newest else items.filter(id__gt=after[1])
    return items.order_by(*_order_fields(filters))


# The page -------------------------------------------------------------------------------


@dataclass
class InboxPage:
    rows: list
    next_query: str  # the address of the next page, or ""
    # A search stopped at the end of its window (SEARCH_WINDOW items) before it filled the
    # page: `next_query` then continues the search with the items after the window.
    window_ended: bool = False


def _annotated(items, *, team_id: int, parsed: ParsedSearch | None = None):
    """Everything a row shows, as columns of the item's own row: no query per row, no prefetch."""
    hits = (
        MentionHit.objects.filter(mention_id=OuterRef("mention_id"), saved_search__team_id=team_id)
        .order_by("saved_search_id")
        .values(json=JSONObject(name="saved_search__name", spans="spans"))
    )
    decision = (
        Decision.objects.filter(item_id=OuterRef("pk"), undone_at__isnull=True)
        .order_by("-decided_at", "-id")
        .values(json=JSONObject(
            outcome="outcome", request_type="request_type", note="note", at="decided_at", by="decided_by__username"
        ))[:1]
    )
    items = items.select_related("mention", "case", "assignee", "claimed_by").annotate(hit_list=ArraySubquery(hits), decision_json=Subquery(decision))
    if parsed:
        items = items.annotate(found_text=SearchHeadline(parsed, "text"), found_title=SearchHeadline(parsed, "title"))
    return items


def inbox_page(*, team_id: int, filters: InboxFilters, user_id: int, page_size: int | None = None) -> InboxPage:
    """One page of the team's inbox, in one query."""
    from triage.inbox_rows import row_build

    page_size = page_size or PAGE_SIZE
    searching = bool(filters.q and filters.parsed)
    window_end = _search_window_end(team_id=team_id, filters=filters, user_id=user_id) if searching else None
    # The page's ids first, then everything a row shows for those ids alone: the planner
    # then finds the page by the filters and an index in page order, stopping after one
    # page, instead of joining cases and people to every item that passes the filters.
    page_ids = _ordered(filtered_items(team_id=team_id, filters=filters, user_id=user_id), filters)
    if window_end is not None:
        page_ids = _within_window(page_ids, window_end, filters)
    items = _annotated(
        InboxItem.objects.filter(pk__in=page_ids.values("pk")[: page_size + 1]),
        team_id=team_id, parsed=filters.parsed if searching else None,
    )
    items = list(items.order_by(*_order_fields(filters)))
    more, items = len(items) > page_size, items[:page_size]
    if more:
        next_query = filters.query_string(cursor=_cursor_write(items[-1], filters.decided))
    elif window_end is not None:
        next_query = filters.query_string(cursor=_cursor_write(window_end, filters.decided))
    else:
        next_query = ""
    rows = [row_build(item) for item in items]
    return InboxPage(rows=rows, next_query=next_query, window_ended=not more and window_end is not None)


def _search_window_end(*, team_id: int, filters: InboxFilters, user_id: int):
    """The last item of a search's window, or None when no more than SEARCH_WINDOW items are in view.

    A search reads at most the next SEARCH_WINDOW items in view (every other filter in
    force, from the cursor on, in page order). Without a bound, a search whose words are
    common but never together, or a word most posts lack, would read every item of the
    team's inbox to find that nothing matches. With it, a page costs the same worst case
    at any inbox size, and the page offers to search on past the window.
    """
    unsearched = replace(filters, q="", parsed=ParsedSearch())
    items = _ordered(filtered_items(team_id=team_id, filters=unsearched, user_id=user_id), filters)
    # Only what the page-order indexes hold (inbox_open_idx, inbox_done_idx): an index-only scan.
    columns = ("id", "decided_at") if filters.decided else ("id",)
    found = list(items.only(*columns)[SEARCH_WINDOW - 1 : SEARCH_WINDOW])
    return found[0] if found else None


def _within_window(items, end, filters: InboxFilters):
    """`items` no further along the page order than `end`, the window's last item."""
    newest = filters.sort != "oldest"
    if filters.decided:
        at = end.decided_at
        if newest:
            return items.filter(Q(decided_at__gt=at) | Q(decided_at=at, id__gte=end.id))
        return items.filter(Q(decided_at__lt=at) | Q(decided_at=at, id__lte=end.id))
    return items.filter(id__gte=end.id) if newest else items.filter(id__lte=end.id)


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
    count: int | None  # None: not counted
    query: str  # the address with this value chosen (or, when it is chosen, cleared)
    selected: bool
    at_least: bool = False  # counted over the newest COUNT_WINDOW items only: a lower bound

    @property
    def count_label(self) -> str:
        return f"{self.count:,}+" if self.at_least else f"{self.count:,}"


@dataclass
class Facet:
    name: str
    label: str
    values: list[FacetValue]


@dataclass
class Counts:
    facets: list[Facet]
    window_full: bool  # more items than COUNT_WINDOW: every count is a lower bound
    search_bounded: bool = False  # a search counted matches among the newest SEARCH_WINDOW items only


def _window_sql(*, team_id: int, filters: InboxFilters, search_ids: list[int]) -> tuple[str, list, str, list]:
    """The newest COUNT_WINDOW + 1 items in the date range and search, with what each facet asks of them.

    With a search, the window holds only matches among the newest SEARCH_WINDOW items in the
    date range, as the page reads them, so a search's counts cost no more than its page; the
    second SQL then tells whether older items were left out (the counts are lower bounds).
    """
    unfaceted = replace(filters, status="all", outcome="", platform="", search="", assignee="", case="")
    items = filtered_items(team_id=team_id, filters=unfaceted, user_id=0)
    beyond_sql, beyond_params = "", []
    if filters.q and filters.parsed:
        unsearched = filtered_items(
            team_id=team_id, filters=replace(unfaceted, q="", parsed=ParsedSearch()), user_id=0
        ).order_by("-id").values("id")
        # The window's items by their ids (an array, so the planner fetches each by its key)
        # and nothing else: it then checks those mentions one by one instead of reading
        # every mention the search's words are in, or every item of the team.
        window_sql, window_params = unsearched[:SEARCH_WINDOW].query.sql_with_params()
        in_window = RawSQL(f'"triage_inboxitem"."id" = ANY(ARRAY({window_sql}))', window_params, BooleanField())
        items = InboxItem.objects.filter(in_window).filter(MentionSearch(filters.parsed))
        beyond_sql, beyond_params = unsearched[SEARCH_WINDOW : SEARCH_WINDOW + 1].query.sql_with_params()
    hits = MentionHit.objects.filter(mention_id=OuterRef("mention_id"), saved_search_id__in=search_ids)
    items = items.annotate(
        w_platform=F("mention__platform"),
        w_searches=ArraySubquery(hits.values("saved_search_id")) if search_ids else Value([], ArrayField(BigIntegerField())),
    )
    if filters.decided:
        # Only decided items have a case or an outcome: the subqueries run for those rows alone.
        decided = Q(status=InboxItem.Status.DONE)
        items = items.annotate(
            w_case=Case(When(decided, then=Exists(CaseModel.objects.filter(item_id=OuterRef("pk")))), default=Value(False)),
            w_outcome=Case(When(decided, then=_latest_outcome()), default=Value("")),
        )
    else:
        items = items.annotate(w_case=Value(False), w_outcome=Value(""))
    items = items.order_by("-id").values("status", "assignee_id", "w_platform", "w_searches", "w_case", "w_outcome")
    sql, params = items[: COUNT_WINDOW + 1].query.sql_with_params()
    return sql, list(params), beyond_sql, list(beyond_params)


def _conditions(filters: InboxFilters, user_id: int) -> dict[str, tuple[str, list]]:
    """SQL over the window's columns for each facet's current value (facets not in force are absent)."""
    f, out = filters, {}
    out["status"] = ("w.status <> 'done'", []) if f.status == "open" else ("w.status = %s", [f.status])
    if f.outcome:
        out["outcome"] = ("w.w_outcome = %s", [f.outcome])
    if f.platform:
        out["platform"] = ("w.w_platform = %s", [f.platform])
    if f.search:
        out["search"] = ("%s = ANY(w.w_searches)", [int(f.search)])
    if f.assignee:
        out["assignee"] = (
            ("w.assignee_id IS NULL", []) if f.assignee == "none"
            else ("w.assignee_id = %s", [user_id if f.assignee == "mine" else int(f.assignee)])
        )
    if f.case:
        out["case"] = ("w.w_case", []) if f.case == "yes" else ("NOT w.w_case", [])
    return out


def inbox_facets(*, team_id: int, filters: InboxFilters, user_id: int, searches, platforms, counted: bool = True) -> Counts:
    """Every value of every facet, with (when `counted`) how many items each would show, in one query.

    A facet's counts apply every other filter in force, not its own. They are counted over
    the newest COUNT_WINDOW items in the date range and search, in one pass: exact when
    the team has no more than that, and shown as lower bounds ("312+") when it has.
    Without `counted`, no query: the values alone, for the filter bar to show at once.
    """
    wanted = [("status", value, label, ("w.status <> 'done'", []) if value == "open" else ("w.status = %s", [value]))
              for value, label in STATUSES]
    if filters.decided:
        wanted += [("outcome", value, label, ("w.w_outcome = %s", [value])) for value, label in Outcome.choices]
    wanted += [("platform", value, label, ("w.w_platform = %s", [value])) for value, label in platforms]
    wanted += [("search", str(s.id), s.name, ("%s = ANY(w.w_searches)", [s.id])) for s in searches]
    wanted += [
        ("assignee", "mine", "Mine", ("w.assignee_id = %s", [user_id])),
        ("assignee", "none", "Unassigned", ("w.assignee_id IS NULL", [])),
    ]
    if filters.decided:  # cases follow decisions
        wanted += [("case", "yes", "With a case", ("w.w_case", [])), ("case", "no", "Without a case", ("NOT w.w_case", []))]
    in_force = _conditions(filters, user_id)
    selects, params = ["count(*)"], []
    for name, _value, _label, (sql, more) in wanted:
        others = [cond for facet, cond in in_force.items() if facet != name and not (name == "status" and facet == "outcome")]
        selects.append("count(*) FILTER (WHERE " + " AND ".join([sql] + [c for c, _ in others]) + ")")
        params += more + [p for _, ps in others for p in ps]
    if counted:
        window, window_params, beyond, beyond_params = _window_sql(
            team_id=team_id, filters=filters, search_ids=[s.id for s in searches]
        )
        # A search that left older items unread counts lower bounds, as a full window does.
        bounded = f"EXISTS ({beyond})" if beyond else "false"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(selects)}, {bounded} FROM ({window}) AS w", params + beyond_params + window_params
            )
            total, *counts, bounded = cursor.fetchone()
    else:
        total, counts, bounded = 0, [None] * len(wanted), False
    full = total > COUNT_WINDOW or bounded

    labels = {"status": "Status", "outcome": "Outcome", "platform": "Platform", "search": "Saved search",
              "assignee": "Assigned", "case": "Case"}
    facets: dict[str, Facet] = {}
    for (name, value, label, _), count in zip(wanted, counts):
        facet = facets.setdefault(name, Facet(name, labels[name], []))
        selected = getattr(filters, name) == value
        changes = {name: "" if selected and name != "status" else value}
        if name == "status":
            changes["outcome"] = ""
        facet.values.append(FacetValue(value, label, count, filters.query_string(**changes), selected, full))
    return Counts(list(facets.values()), full, bounded)


def team_searches(team_id: int):
    return list(SavedSearch.objects.filter(team_id=team_id, archived_at__isnull=True).order_by("name").only("id", "name"))
