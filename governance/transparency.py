"""The transparency report: what Earshot monitors, why, who can see it and how long it keeps it.

It answers the questions an FOI request about the monitoring itself asks, as plain
data dated "as at", from the database as it is now:
1. whether the body monitors social media, on which platforms, and that it does so in-house;
2. the purposes: each enabled saved search's name and purpose; its query only where the
   search is marked publishable (the query of any other search is never read);
3. how results are used: each inbox item's current decision, by outcome, by month;
4. who has access: people per team and role, never names; whether any excluded person
   holds access;
5. who provides it (in-house) and what the platforms cost, from the reads the budgets record;
6. the outputs circulated: how many, and the date of the latest, never their content;
7. retention per category, the FOI five-day rule, and the last purges with their counts;
8. the privacy notice (EARSHOT_PRIVACY_NOTICE_URL).

Every number is an aggregate computed in SQL: the report costs the same fixed number of
queries however much data there is. The only rows it lists are saved searches (at most
SEARCHES_SHOWN) and purge records (the last PURGES_SHOWN).
"""

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Case, Count, Exists, F, Max, OuterRef, Q, Sum, TextField, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import AccessGrant, Role, User
from governance.models import PurgeRecord, RetentionPolicy
from listening.models import Channel, Platform, PlatformUsage, Purpose, SavedSearch, SavedSearchPlatform
from triage.models import Circulation, Decision, Outcome

MONTHS = 12  # months shown by month: decisions and platform spend
SEARCHES_SHOWN = 500
PURGES_SHOWN = 20
# News feeds are read like any other source, but they are not social media.
NOT_SOCIAL_MEDIA = frozenset({Platform.RSS})
IN_HOUSE = (
    "In-house. The body's own staff run the monitoring on the body's own installation of Earshot; "
    "no monitoring service or tool is bought from a third party, and no third party holds the data."
)


def _label(choices, value: str) -> str:
    return choices(value).label if value in choices.values else value


def months_back(now: datetime, months: int = MONTHS) -> list[date]:
    """The first days of the last `months` months (UK time), oldest first, this month last."""
    first = timezone.localtime(now).date().replace(day=1)
    out = []
    year, month = first.year, first.month
    for _ in range(months):
        out.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _month_start(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, 1))


def monitoring_section() -> dict:
    """Which platforms are read, counting enabled saved searches and channels on each."""
    searches = dict(
        SavedSearchPlatform.objects.filter(saved_search__enabled=True, saved_search__archived_at__isnull=True)
        .values("platform").annotate(n=Count("saved_search", distinct=True)).values_list("platform", "n")
    )
    channels = dict(
        Channel.objects.filter(enabled=True).values("platform").annotate(n=Count("id")).values_list("platform", "n")
    )
    known = [p for p in Platform.values if p in searches or p in channels]
    platforms = [
        {
            "platform": p, "label": _label(Platform, p), "social_media": p not in NOT_SOCIAL_MEDIA,
            "saved_searches": searches.get(p, 0), "channels": channels.get(p, 0),
        }
        # Platforms no longer in the code's list (a retired source) still show, last.
        for p in known + sorted((set(searches) | set(channels)) - set(known))
    ]
    return {
        "monitors_social_media": any(p["social_media"] for p in platforms),
        "platforms": platforms,
        "in_house": True,
        "provision": IN_HOUSE,
    }


def purposes_section() -> dict:
    """Each enabled saved search: name, team, purpose, platforms; its query only if publishable."""
    enabled = SavedSearch.objects.filter(enabled=True, archived_at__isnull=True)
    counted = list(enabled.values("purpose").annotate(n=Count("id"), published=Count("id", filter=Q(publishable=True))))
    by_purpose = {row["purpose"]: row["n"] for row in counted}
    publishable = sum(row["published"] for row in counted)
    rows = (
        enabled.order_by("team__name", "name", "id")
        .annotate(
            # The query column is read only for a publishable search: the others never leave the database.
            published_query=Case(When(publishable=True, then=F("query")), default=Value(None), output_field=TextField()),
            platform_list=ArrayAgg(
                "platform_states__platform", distinct=True, order_by="platform_states__platform",
                filter=Q(platform_states__isnull=False), default=Value([]),
            ),
        )
        .values("name", "team__name", "purpose", "purpose_statement", "publishable", "published_query", "platform_list")
    )[:SEARCHES_SHOWN]
    searches = [
        {
            "name": row["name"], "team": row["team__name"], "purpose": row["purpose"],
            "purpose_label": _label(Purpose, row["purpose"]), "purpose_statement": row["purpose_statement"],
            "publishable": row["publishable"], "query": row["published_query"] if row["publishable"] else None,
            "platforms": [_label(Platform, p) for p in row["platform_list"]],
        }
        for row in rows
    ]
    total = sum(by_purpose.values())
    return {
        "total": total,
        "by_purpose": [
            {"purpose": p.value, "label": p.label, "searches": by_purpose.get(p.value, 0)} for p in Purpose
        ],
        "publishable": publishable,
        "searches": searches,
        "shown": len(searches),
    }


def decisions_section(now: datetime) -> dict:
    """Each inbox item's current decision, by outcome and by the month it was made, for the last MONTHS months."""
    months = months_back(now)
    later = Decision.objects.filter(item_id=OuterRef("item_id")).filter(
        Q(decided_at__gt=OuterRef("decided_at")) | Q(decided_at=OuterRef("decided_at"), id__gt=OuterRef("id"))
    )
    rows = (
        Decision.objects.filter(decided_at__gte=_month_start(months[0]))
        .filter(~Exists(later))
        .annotate(month=TruncMonth("decided_at"))
        .values("month", "outcome").annotate(n=Count("id")).values_list("month", "outcome", "n")
    )
    counts: dict[date, dict[str, int]] = {m: dict.fromkeys(Outcome.values, 0) for m in months}
    for month, outcome, n in rows:
        day = timezone.localtime(month).date() if isinstance(month, datetime) else month
        counts.setdefault(day, dict.fromkeys(Outcome.values, 0))[outcome] = n
    by_month = [{"month": m, "counts": counts[m], "total": sum(counts[m].values())} for m in sorted(counts)]
    totals = {o: sum(row["counts"].get(o, 0) for row in by_month) for o in Outcome.values}
    return {
        "since": months[0],
        "outcomes": [{"outcome": o.value, "label": o.label} for o in Outcome],
        "months": by_month,
        "totals": totals,
        "total": sum(totals.values()),
    }


def access_section() -> dict:
    """People with access per team and role, never names, and whether an excluded person holds any.

    Access means a grant in force (unrevoked, unexpired) held by an account that can sign
    in. The excluded-person question is stricter: any grant in force on an excluded
    person counts, whether or not their account can sign in today.
    """
    in_force = AccessGrant.objects.active()
    holding = in_force.filter(user__is_active=True)
    rows = (
        holding.values("team__name", "role").annotate(people=Count("user", distinct=True))
        .order_by("team__name", "role").values_list("team__name", "role", "people")
    )
    by_team: dict[str, dict[str, int]] = {}
    for team, role, people in rows:
        by_team.setdefault(team, dict.fromkeys(Role.values, 0))[role] = people
    people = holding.values("user").distinct().count()
    excluded_with_access = in_force.filter(user__excluded_at__isnull=False).values("user").distinct().count()
    return {
        "roles": [{"role": r.value, "label": r.label} for r in Role],
        "teams": [{"team": team, "counts": counts, "total": sum(counts.values())} for team, counts in by_team.items()],
        "people": people,
        "by_role": {r: sum(t[r] for t in by_team.values()) for r in Role.values},
        "excluded_people": User.objects.filter(excluded_at__isnull=False).count(),
        "excluded_with_access": excluded_with_access,
        "excluded_hold_access": "Yes" if excluded_with_access else "No",
    }


def spend_section(now: datetime) -> dict:
    """Reads per metered platform and month, and what they cost at the configured price per read."""
    months = months_back(now)
    prices: dict[str, Decimal] = dict(settings.EARSHOT_PRICE_PER_READ)
    platforms = sorted(set(prices) | set(settings.EARSHOT_MONTHLY_READ_LIMITS))
    rows = (
        PlatformUsage.objects.filter(month__gte=months[0], platform__in=platforms)
        .values("month", "platform").annotate(reads=Sum("reads"), charged=Sum("charged_reads"))
        .values_list("month", "platform", "reads", "charged")
    )
    usage = {(month, platform): (reads or 0, charged or 0) for month, platform, reads, charged in rows}
    by_platform = []
    for platform in platforms:
        price = prices.get(platform)
        per_month = []
        for month in months:
            reads, charged = usage.get((month, platform), (0, 0))
            per_month.append({
                "month": month, "reads": reads, "charged_reads": charged,
                "spend": (price * charged) if price is not None else None,
            })
        by_platform.append({
            "platform": platform, "label": _label(Platform, platform), "price_per_read": price,
            "months": per_month,
            "reads": sum(m["reads"] for m in per_month),
            "charged_reads": sum(m["charged_reads"] for m in per_month),
            "spend": (price * sum(m["charged_reads"] for m in per_month)) if price is not None else None,
        })
    return {
        "outsourced": False,
        "provision": "in-house",
        "currency": "USD",
        "since": months[0],
        "months": months,
        "platforms": by_platform,
        "total_spend": sum((p["spend"] for p in by_platform if p["spend"] is not None), Decimal(0)),
    }


def circulations_section() -> dict:
    """How many outputs were circulated (all kept), of which kind, and the date of the latest: no content."""
    totals = Circulation.objects.aggregate(count=Count("id"), latest=Max("created_at"))
    by_kind = dict(Circulation.objects.values("kind").annotate(n=Count("id")).values_list("kind", "n"))
    latest = totals["latest"]
    return {
        "count": totals["count"],
        "latest": timezone.localtime(latest).date() if latest else None,
        "by_kind": [{"kind": k.value, "label": k.label, "count": by_kind.get(k.value, 0)} for k in Circulation.Kind],
    }


def _purge_row(row: dict) -> dict:
    counts = {table: n for table, n in (row["counts"] or {}).items() if isinstance(n, int)}
    return {
        "category": row["category"], "label": _label(PurgeRecord.Category, row["category"]),
        "at": row["created_at"], "cutoff": row["cutoff"], "basis": row["basis"],
        "counts": counts, "total": sum(counts.values()),
    }


def retention_section(now: datetime) -> dict:
    """How long each category is kept, the FOI five-day rule, and the last purges with their counts."""
    since = _month_start(months_back(now)[0])
    policies = {row["category"]: row for row in RetentionPolicy.objects.values("category", "days", "updated_at")}
    last = {
        row["category"]: _purge_row(row)
        for row in PurgeRecord.objects.order_by("category", "-created_at", "-id").distinct("category")
        .values("category", "created_at", "cutoff", "basis", "counts")
    }
    purges_since = dict(
        PurgeRecord.objects.filter(created_at__gte=since).values("category").annotate(n=Count("id"))
        .values_list("category", "n")
    )
    categories = [
        {
            "category": c.value, "label": c.label,
            "days": policies[c.value]["days"] if c.value in policies else RetentionPolicy.DEFAULT_DAYS[c],
            "default": c.value not in policies,
            "rule": f"{policies[c.value]['days'] if c.value in policies else RetentionPolicy.DEFAULT_DAYS[c]} days",
            "last_purge": last.get(c.value), "purges_since": purges_since.get(c.value, 0),
        }
        for c in RetentionPolicy.CATEGORIES
    ]
    foi = PurgeRecord.Category.FOI_MONITORING
    after, ceiling = settings.EARSHOT_FOI_PURGE_DAYS_AFTER_MEETING, settings.EARSHOT_FOI_PURGE_CEILING_DAYS
    categories.insert(0, {
        "category": foi.value, "label": foi.label, "days": ceiling, "default": False,
        "rule": f"Deleted within {after} days after each review meeting, and after {ceiling} days at most",
        "last_purge": last.get(foi.value), "purges_since": purges_since.get(foi.value, 0),
    })
    recent = [
        _purge_row(row) for row in PurgeRecord.objects.order_by("-created_at", "-id")
        .values("category", "created_at", "cutoff", "basis", "counts")[:PURGES_SHOWN]
    ]
    return {
        "since": since.date(),
        "categories": categories,
        "foi_days_after_meeting": after,
        "foi_ceiling_days": ceiling,
        "recent_purges": recent,
    }


def transparency_report(*, now: datetime | None = None) -> dict:
    """The whole report as plain data (dicts, lists, numbers, dates), as at `now`."""
    now = now or timezone.now()
    return {
        "as_at": now,
        "monitoring": monitoring_section(),
        "purposes": purposes_section(),
        "decisions": decisions_section(now),
        "access": access_section(),
        "spend": spend_section(now),
        "circulations": circulations_section(),
        "retention": retention_section(now),
        "privacy_notice_url": settings.EARSHOT_PRIVACY_NOTICE_URL,
    }


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def _month(day: date) -> str:
    return f"{day:%Y-%m}"


def _when(value) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).isoformat(timespec="seconds") if isinstance(value, datetime) else value.isoformat()


def report_rows(report: dict) -> Iterator[list]:
    """The report as rows of (section, item, detail, value), for the CSV export."""
    yield ["section", "item", "detail", "value"]
    yield ["report", "as at", "", _when(report["as_at"])]
    monitoring = report["monitoring"]
    yield ["monitoring", "monitors social media", "", _yes_no(monitoring["monitors_social_media"])]
    yield ["monitoring", "provision", "", "in-house"]
    for p in monitoring["platforms"]:
        yield ["monitoring", p["label"], "enabled saved searches", p["saved_searches"]]
        yield ["monitoring", p["label"], "enabled channels", p["channels"]]
    purposes = report["purposes"]
    yield ["purposes", "enabled saved searches", "", purposes["total"]]
    yield ["purposes", "saved searches with a published query", "", purposes["publishable"]]
    for p in purposes["by_purpose"]:
        yield ["purposes", p["label"], "enabled saved searches", p["searches"]]
    for s in purposes["searches"]:
        yield ["saved search", s["name"], "team", s["team"]]
        yield ["saved search", s["name"], "purpose", s["purpose_label"]]
        yield ["saved search", s["name"], "why", s["purpose_statement"]]
        yield ["saved search", s["name"], "platforms", "; ".join(s["platforms"])]
        yield ["saved search", s["name"], "query", s["query"] if s["publishable"] else "not published"]
    decisions = report["decisions"]
    labels = {o["outcome"]: o["label"] for o in decisions["outcomes"]}
    for row in decisions["months"]:
        for outcome, n in row["counts"].items():
            yield ["decisions", _month(row["month"]), labels.get(outcome, outcome), n]
    for outcome, n in decisions["totals"].items():
        yield ["decisions", f"since {_month(decisions['since'])}", labels.get(outcome, outcome), n]
    access = report["access"]
    roles = {r["role"]: r["label"] for r in access["roles"]}
    for team in access["teams"]:
        for role, n in team["counts"].items():
            yield ["access", team["team"], roles.get(role, role), n]
    for role, n in access["by_role"].items():
        yield ["access", "all teams", roles.get(role, role), n]
    yield ["access", "all teams", "people with access", access["people"]]
    yield ["access", "excluded people", "", access["excluded_people"]]
    yield ["access", "excluded people holding access", "", access["excluded_hold_access"]]
    spend = report["spend"]
    yield ["cost", "outsourced", "", "No: in-house"]
    for p in spend["platforms"]:
        for m in p["months"]:
            yield ["cost", p["label"], f"{_month(m['month'])} reads charged", m["charged_reads"]]
            if m["spend"] is not None:
                yield ["cost", p["label"], f"{_month(m['month'])} spend ({spend['currency']})", f"{m['spend']:.2f}"]
        if p["spend"] is not None:
            yield ["cost", p["label"], f"spend since {_month(spend['since'])} ({spend['currency']})", f"{p['spend']:.2f}"]
    yield ["cost", "all platforms", f"spend since {_month(spend['since'])} ({spend['currency']})", f"{spend['total_spend']:.2f}"]
    circulations = report["circulations"]
    yield ["outputs circulated", "count", "", circulations["count"]]
    yield ["outputs circulated", "latest", "", _when(circulations["latest"])]
    for k in circulations["by_kind"]:
        yield ["outputs circulated", k["label"], "count", k["count"]]
    retention = report["retention"]
    for c in retention["categories"]:
        yield ["retention", c["label"], "kept", c["rule"]]
        yield ["retention", c["label"], f"purges since {retention['since']:%Y-%m}", c["purges_since"]]
        if c["last_purge"]:
            yield ["retention", c["label"], "last purge", _when(c["last_purge"]["at"])]
            yield ["retention", c["label"], "rows deleted by the last purge", c["last_purge"]["total"]]
    for p in retention["recent_purges"]:
        yield ["purge", _when(p["at"]), p["label"], p["total"]]
    yield ["privacy notice", "", "", report["privacy_notice_url"] or "not set"]
