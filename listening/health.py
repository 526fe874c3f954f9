"""What the harvest health page shows: every search harvest and channel, why any of them
waits, each platform's request budget, credentials and spend.

Read in a fixed number of queries whatever the number of searches: one per table
(each row's latest run found through an indexed subquery), plus one Redis round trip
for every budget.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import OuterRef, Q, Subquery

from listening.budgets import BudgetState, budget_for, budget_states
from listening.credentials import CREDENTIAL_NEEDED, harvest_target
from listening.dispatch import harvest_hold, platforms_without_search
from listening.harvest import platform_label
from listening.models import Channel, HarvestRun, PlatformCredential, PlatformUsage, SavedSearchPlatform
from listening.spend import is_metered, month_start, price_per_read, spend_caps, spend_state


@dataclass
class HarvestRow:
    kind: str  # "search" or "channel"
    target: SavedSearchPlatform | Channel
    name: str
    platform: str
    enabled: bool
    last_run: HarvestRun | None = None
    next_run_at: datetime | None = None
    waiting: str = ""
    rate_limit: str = ""
    reads_this_month: int = 0
    spend_this_month: Decimal | None = None
    budget_key: str = ""
    budget: object = None  # the shared Budget it spends, if any
    team_id: int | None = None

    @property
    def platform_label(self) -> str:
        return platform_label(self.platform)

    @property
    def errors(self) -> list[str]:
        """The last run's errors (skipped items and what stopped it), else the row's last error."""
        errors = list(self.last_run.errors) if self.last_run else []
        if self.target.last_error and self.target.last_error not in errors:
            errors.append(self.target.last_error)
        return errors


@dataclass
class PlatformHealth:
    platform: str
    lines: list[str] = field(default_factory=list)  # problems first: what stops or slows it
    budgets: list[str] = field(default_factory=list)
    spend: object = None

    @property
    def label(self) -> str:
        return platform_label(self.platform)


@dataclass
class HealthReport:
    searches: list[HarvestRow]
    channels: list[HarvestRow]
    platforms: list[PlatformHealth]
    runs: list[HarvestRun]


def _latest_run(**match):
    return Subquery(HarvestRun.objects.filter(**match).order_by("-started_at").values("id")[:1])


def _rate_limit_text(state: BudgetState | None, now: datetime) -> str:
    if state is None:
        return ""
    if state.blocked(now):
        return f"rate limited until {_clock(state.blocked_until)}"
    if state.reset_at is None or state.reset_at <= now:
        return f"{state.limit} requests free"
    return f"{max(0, state.available(now))} of {state.limit} requests free until {_clock(state.reset_at)}"


def _clock(moment: datetime) -> str:
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%H:%M")


def harvest_health_report(*, team_ids, now: datetime) -> HealthReport:
    """The rows and platform lines for the teams in `team_ids` (channels are everyone's)."""
    team_ids = set(team_ids)
    states = list(
        SavedSearchPlatform.objects.filter(saved_search__archived_at__isnull=True)
        .select_related("saved_search", "saved_search__team")
        .annotate(latest_run_id=_latest_run(saved_search_id=OuterRef("saved_search_id"), platform=OuterRef("platform")))
        .order_by("saved_search__team__name", "saved_search__name", "platform")
    )
    channels = list(Channel.objects.annotate(latest_run_id=_latest_run(channel_id=OuterRef("pk"))))
    run_ids = [row.latest_run_id for row in (*states, *channels) if row.latest_run_id]
    latest = {run.pk: run for run in HarvestRun.objects.filter(pk__in=run_ids)} if run_ids else {}
    credentials = list(PlatformCredential.objects.all())
    usage = list(
        PlatformUsage.objects.filter(month=month_start(now)).values_list(
            "platform", "saved_search_id", "channel_id", "reads", "charged_reads"
        )
    )
    totals: dict[str, tuple[int, int]] = {}
    for platform, _, _, reads, charged in usage:
        before = totals.get(platform, (0, 0))
        totals[platform] = (before[0] + reads, before[1] + charged)
    by_search = {(p, s): (r, c) for p, s, ch, r, c in usage if s}
    by_channel = {ch: (r, c) for p, s, ch, r, c in usage if ch}

    platforms = sorted({s.platform for s in states} | {c.platform for c in channels} | {c.platform for c in credentials})
    caps = spend_caps() if any(is_metered(p) for p in platforms) else {}
    spends = {p: spend_state(p, totals=totals, caps=caps) for p in platforms if is_metered(p)}
    unsearchable = platforms_without_search()

    def row_for(kind, target, name, enabled, reads):
        base_url, credential = harvest_target(target.platform, base_url=getattr(target, "base_url", ""), credentials=credentials)
        budget = budget_for(target.platform, credential_id=credential.pk if credential else None, base_url=base_url)
        hold = harvest_hold(target.platform, credential, spends)
        row = HarvestRow(
            kind=kind,
            target=target,
            name=name,
            platform=target.platform,
            enabled=enabled,
            last_run=latest.get(target.latest_run_id),
            next_run_at=None if hold else target.next_run_at,  # it runs when the hold clears
            waiting=hold[1] if hold else "",
            reads_this_month=reads[0],
            budget_key=budget.key if budget else "",
        )
        price = price_per_read(target.platform)
        if price is not None:
            row.spend_this_month = price * reads[1]
        row.budget = budget
        return row

    searches = []
    for state in states:
        search = state.saved_search
        row = row_for("search", state, f"{search.team.name}: {search.name}", search.enabled,
                      by_search.get((state.platform, search.pk), (0, 0)))
        if state.platform in unsearchable:
            row.waiting = (
                f"{row.platform_label} has no search: this search is matched against the posts "
                "of that platform's channels, which an admin adds."
            )
            row.next_run_at = None
        row.team_id = search.team_id
        searches.append(row)
    channel_rows = [
        row_for("channel", channel, channel.name or channel.channel, channel.enabled, by_channel.get(channel.pk, (0, 0)))
        for channel in channels
    ]

    all_rows = searches + channel_rows
    states_by_key = budget_states(row.budget for row in all_rows)
    for row in all_rows:
        state = states_by_key.get(row.budget_key)
        row.rate_limit = _rate_limit_text(state, now)
        if state is not None and state.blocked(now) and not row.waiting:
            row.next_run_at = max(row.next_run_at, state.blocked_until) if row.next_run_at else state.blocked_until

    report_platforms = [
        _platform_health(p, credentials=credentials, spend=spends.get(p), rows=[r for r in all_rows if r.platform == p],
                         states=states_by_key, now=now)
        for p in platforms
    ]
    report_platforms = [p for p in report_platforms if p.lines or p.budgets or p.spend]
    visible = [row for row in searches if row.team_id in team_ids]
    runs = list(
        HarvestRun.objects.filter(Q(saved_search__team_id__in=team_ids) | Q(channel__isnull=False)).order_by("-started_at")[:30]
    )
    _attach_names(runs, all_rows)
    return HealthReport(searches=visible, channels=channel_rows, platforms=report_platforms, runs=runs)


def _attach_names(runs, rows) -> None:
    """Name each run from the rows already loaded, rather than a query per run."""
    names = {}
    for row in rows:
        if row.kind == "search":
            names[("search", row.target.saved_search_id)] = row.target.saved_search.name
        else:
            names[("channel", row.target.pk)] = row.name
    for run in runs:
        key = ("search", run.saved_search_id) if run.saved_search_id else ("channel", run.channel_id)
        run.target_name = names.get(key, "(deleted)")
        run.kind = key[0]


def _platform_health(platform, *, credentials, spend, rows, states, now) -> PlatformHealth:
    health = PlatformHealth(platform=platform, spend=spend)
    label = health.label
    mine = [c for c in credentials if c.platform == platform]
    for credential in mine:
        if credential.failed:
            where = f" ({credential.base_url})" if credential.base_url else ""
            health.lines.append(
                f"{label}{where}: authentication failed — {credential.last_error or 'the platform refused the credentials'}. "
                "Nothing polls with it until it is replaced."
            )
    if not mine and platform in CREDENTIAL_NEEDED and rows:
        health.lines.append(f"{label}: no credentials yet, so nothing is harvested. An admin adds them under Platforms.")
    if spend is not None and spend.reached:
        health.lines.append(f"{label}: {spend.reached}. Harvesting resumes next month, or when the cap is raised.")

    running = [r for r in rows if r.enabled and not r.waiting and r.budget_key]
    for key in sorted({r.budget_key for r in running}):
        state = states.get(key)
        group = [r for r in running if r.budget_key == key]
        if state is None:
            continue
        if state.blocked(now):
            health.lines.append(
                f"{label} is rate limited until {_clock(state.blocked_until)}: every search and channel "
                "using this credential waits until then."
            )
        elif state.deferred and state.deferred_at and now - state.deferred_at <= _recently():
            health.lines.append(_at_limit_line(label, group, state))
        health.budgets.append(_rate_limit_text(state, now))
    return health


def _recently() -> timedelta:
    return timedelta(seconds=3 * settings.EARSHOT_DISPATCH_EVERY_SECONDS)


def _at_limit_line(label: str, group: list[HarvestRow], state: BudgetState) -> str:
    """"X is at its request limit: searches run every 6 minutes instead of 2"."""
    kinds = {r.kind for r in group}
    what = "searches and channels" if len(kinds) == 2 else "searches" if "search" in kinds else "channels"
    per_run = [max(1, r.last_run.requests) for r in group if r.last_run and r.last_run.pages]
    requests_per_run = sum(per_run) / len(per_run) if per_run else 1
    # Round-robin through the group: each gets its turn once every n runs the budget allows.
    minutes = math.ceil(len(group) * requests_per_run * state.window_seconds / max(1, state.limit) / 60)
    wanted = min(r.target.interval.total_seconds() // 60 for r in group)
    if minutes > wanted:
        return f"{label} is at its request limit: {what} run every {minutes} minutes instead of {int(wanted)}."
    return f"{label} is at its request limit: {state.deferred} due runs wait for the next window."
