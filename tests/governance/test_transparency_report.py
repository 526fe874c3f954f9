"""The transparency report: every number equals a direct count in the database, it names no one,
a query not marked publishable never appears, and its four forms (page, print, JSON, CSV).

The expected numbers are counted here with raw SQL, written independently of the ORM code
that builds the report.
"""

import csv
import io
import json
import re
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessGrant, Role, Team
from governance.models import AuditEvent, PurgeRecord, RetentionPolicy
from governance.transparency import transparency_report
from listening.models import Channel, PlatformUsage, SavedSearch, SavedSearchPlatform
from triage.models import Circulation, Decision, InboxItem

ROOT = Path(__file__).resolve().parents[2]

# Strings that must never reach the report: people's names, emails, handles, and content.
SECRETS = [
    "Zebedee", "Quixotic", "zebedee.q@example.invalid", "yolandaz", "Xanthippe", "wilhelminaw", "valentinav",
    "Ottoline", "Postauthorhandle", "Post Author Fullname", "CIRCSUBJECTTEXT", "circulated note body",
    "decision note body", "SECRETQUERYTEXT", "ARCHIVEDQUERYTEXT", "Disabled search name", "Archived search name",
    "mention body text", "somebody-who-purged",
]


def _sql(query, params=()):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def _at(days_ago: int, hours: int = 12):
    return timezone.now() - timedelta(days=days_ago, hours=hours)


@pytest.fixture
def seeded(cast, communications, foi_team, make_item, django_user_model):
    """Teams, grants in every state, searches, decisions over many months, circulations, purges, spend."""
    today = timezone.localdate()
    parliamentary = Team.objects.create(name="Parliamentary team", slug="parliamentary")

    def person(username, **fields):
        return django_user_model.objects.create_user(username=username, password="x" * 20, **fields)

    zeb = person("zebedee", first_name="Zebedee", last_name="Quixotic", email="zebedee.q@example.invalid")
    AccessGrant.objects.create(user=zeb, team=parliamentary, role=Role.COMMS_OFFICER)
    AccessGrant.objects.create(user=zeb, team=communications, role=Role.COMMS_OFFICER)
    AccessGrant.objects.create(user=zeb, team=communications, role=Role.ADMIN)
    yolanda = person("yolandaz", first_name="Xanthippe")
    AccessGrant.objects.create(user=yolanda, team=parliamentary, role=Role.COMMS_OFFICER, revoked_at=timezone.now())
    expired = person("xerxesq")
    AccessGrant.objects.create(user=expired, team=parliamentary, role=Role.COMMS_OFFICER, expires_on=today)
    AccessGrant.objects.create(user=expired, team=foi_team, role=Role.FOI_ENFORCEMENT, expires_on=today + timedelta(days=9))
    inactive = person("wilhelminaw", is_active=False)
    AccessGrant.objects.create(user=inactive, team=foi_team, role=Role.FOI_ENFORCEMENT)
    excluded = person("valentinav", first_name="Ottoline")
    excluded.excluded_at, excluded.excluded_reason = timezone.now(), "senior leadership"
    excluded.save()
    django_user_model.objects.filter(id=person("ursulau").id).update(excluded_at=timezone.now())

    # Searches: running (published and not), disabled, archived.
    published = SavedSearch.objects.create(
        team=communications, name="Posts that say the ICO", query='"the ICO" PUBLISHEDQUERYTEXT', publishable=True,
        purpose_statement="To answer direct engagement with the regulator.",
    )
    secret = SavedSearch.objects.create(
        team=communications, name="=HYPERLINK(\"http://evil\")", query="SECRETQUERYTEXT", purpose="news",
        purpose_statement="News coverage.",
    )
    foi = SavedSearch.objects.create(team=foi_team, name="FOI campaigners", query="FOI SECRETQUERYTEXT", purpose="foi_monitoring")
    disabled = SavedSearch.objects.create(team=communications, name="Disabled search name", query="x", enabled=False, publishable=True)
    archived = SavedSearch.objects.create(
        team=communications, name="Archived search name", query="ARCHIVEDQUERYTEXT", enabled=False,
        archived_at=timezone.now(), publishable=True,
    )
    for search, platforms in ((published, ["x", "mastodon"]), (secret, ["x"]), (foi, ["bluesky", "x"]),
                              (disabled, ["youtube"]), (archived, ["reddit"])):
        for platform in platforms:
            SavedSearchPlatform.objects.create(saved_search=search, platform=platform)
    Channel.objects.create(platform="rss", channel="https://news.example/feed")
    Channel.objects.create(platform="x", channel="mentions")
    Channel.objects.create(platform="linkedin", channel="12345", enabled=False)

    # Decisions: this month, earlier months, one redecided item, one outside the window.
    def decide(team, outcome, days_ago, *, item=None, hours=12):
        item = item or make_item(team, author_handle="Postauthorhandle", author_name="Post Author Fullname", text="mention body text")
        decision = Decision.objects.create(item=item, outcome=outcome, note="decision note body", decided_by=zeb)
        Decision.objects.filter(id=decision.id).update(decided_at=_at(days_ago, hours))
        return item

    for outcome, days_ago in (("enquiry", 0), ("complaint", 0), ("no_action", 1), ("news_item", 40), ("news_item", 41),
                              ("information_request", 70), ("no_action", 200), ("enquiry", 500)):
        decide(communications, outcome, days_ago)
    redecided = decide(communications, "complaint", 35)
    decide(communications, "no_action", 2, item=redecided)
    decide(foi_team, "no_action", 3)
    make_item(communications)  # undecided

    # Circulations, of several kinds.
    item = InboxItem.objects.filter(team=communications).first()
    for kind, days_ago in (("news_item", 3), ("digest", 10), ("due_cases", 400)):
        circulation = Circulation.objects.create(
            team=communications, kind=kind, item=item, sender=zeb, subject="CIRCSUBJECTTEXT",
            note="circulated note body", mention_author="Post Author Fullname",
        )
        Circulation.objects.filter(id=circulation.id).update(created_at=_at(days_ago))

    # Purges: the FOI five-day rule, retention, one long ago.
    for category, days_ago, counts in (
        ("foi_monitoring", 1, {"listening.mention": 40, "triage.inboxitem": 12, "foi_monitoring.authoritysignal": 3}),
        ("foi_monitoring", 8, {"listening.mention": 5}),
        ("untriaged_mentions", 2, {"listening.mention": 1000, "listening.mentionhit": 1500}),
        ("audit_log", 3, {"audit_events": 7, "note": "not a count"}),
        ("foi_monitoring", 420, {"listening.mention": 99}),
    ):
        record = PurgeRecord.objects.create(
            category=category, cutoff=_at(days_ago + 5), counts=counts, basis=f"{category} rule",
            triggered_by="somebody-who-purged",
        )
        PurgeRecord.objects.filter(id=record.id).update(created_at=_at(days_ago))
    RetentionPolicy.objects.filter(category="cases").update(days=2000)
    RetentionPolicy.objects.filter(category="harvest_runs").delete()

    # Reads: X (charged per read) this month and last, long ago, and a free platform.
    month = today.replace(day=1)
    last_month = (month - timedelta(days=1)).replace(day=1)
    PlatformUsage.objects.create(platform="x", month=month, saved_search=published, reads=1200, charged_reads=1000)
    PlatformUsage.objects.create(platform="x", month=month, saved_search=secret, reads=50, charged_reads=40)
    PlatformUsage.objects.create(platform="x", month=last_month, saved_search=published, reads=300, charged_reads=300)
    PlatformUsage.objects.create(platform="x", month=month.replace(year=month.year - 2), saved_search=published, reads=9, charged_reads=9)
    PlatformUsage.objects.create(platform="mastodon", month=month, saved_search=published, reads=5000, charged_reads=0)
    return {"excluded": excluded, "parliamentary": parliamentary}


# -- the direct counts ----------------------------------------------------------------------------

WINDOW_START = (
    "(date_trunc('month', now() AT TIME ZONE 'Europe/London') - interval '11 months')"
)
LONDON_TODAY = "(now() AT TIME ZONE 'Europe/London')::date"
IN_FORCE = f"g.revoked_at IS NULL AND (g.expires_on IS NULL OR g.expires_on > {LONDON_TODAY})"


def _nonzero(mapping):
    return {k: v for k, v in mapping.items() if v}


def test_every_number_equals_a_direct_count_in_the_database(seeded, settings):
    report = transparency_report()

    # Platforms: enabled searches (not archived) and enabled channels per platform.
    searches = dict(_sql(
        "SELECT p.platform, count(DISTINCT s.id) FROM listening_savedsearchplatform p "
        "JOIN listening_savedsearch s ON s.id = p.saved_search_id "
        "WHERE s.enabled AND s.archived_at IS NULL GROUP BY p.platform"
    ))
    channels = dict(_sql("SELECT platform, count(*) FROM listening_channel WHERE enabled GROUP BY platform"))
    got = report["monitoring"]["platforms"]
    assert sorted(p["platform"] for p in got) == sorted(set(searches) | set(channels))  # each platform once
    assert {p["platform"]: p["saved_searches"] for p in got} == {p: searches.get(p, 0) for p in set(searches) | set(channels)}
    assert {p["platform"]: p["channels"] for p in got} == {p: channels.get(p, 0) for p in set(searches) | set(channels)}
    assert searches == {"x": 3, "mastodon": 1, "bluesky": 1} and channels == {"rss": 1, "x": 1}  # the seed is what we think
    assert report["monitoring"]["monitors_social_media"] is True

    # Purposes.
    rows = _sql(
        "SELECT purpose, count(*), count(*) FILTER (WHERE publishable) FROM listening_savedsearch "
        "WHERE enabled AND archived_at IS NULL GROUP BY purpose"
    )
    purposes = report["purposes"]
    assert _nonzero({p["purpose"]: p["searches"] for p in purposes["by_purpose"]}) == {r[0]: r[1] for r in rows}
    assert purposes["publishable"] == sum(r[2] for r in rows) == 1
    assert purposes["total"] == sum(r[1] for r in rows) == len(purposes["searches"]) == 3
    names = _sql("SELECT name FROM listening_savedsearch WHERE enabled AND archived_at IS NULL ORDER BY name")
    assert sorted(s["name"] for s in purposes["searches"]) == sorted(n for (n,) in names)

    # Decisions: each item's latest decision, by London month, over the last twelve months.
    rows = _sql(
        "SELECT to_char(decided_at AT TIME ZONE 'Europe/London', 'YYYY-MM'), outcome, count(*) FROM ("
        "  SELECT DISTINCT ON (item_id) item_id, outcome, decided_at FROM triage_decision"
        "  ORDER BY item_id, decided_at DESC, id DESC"
        f") latest WHERE decided_at AT TIME ZONE 'Europe/London' >= {WINDOW_START} GROUP BY 1, 2"
    )
    direct = {(month, outcome): n for month, outcome, n in rows}
    got = {
        (f"{row['month']:%Y-%m}", outcome): n
        for row in report["decisions"]["months"] for outcome, n in row["counts"].items() if n
    }
    assert got == direct
    assert len(report["decisions"]["months"]) == 12
    assert report["decisions"]["total"] == sum(direct.values()) == 9  # 12 decisions, one superseded, 2 out of the window
    for outcome, n in report["decisions"]["totals"].items():
        assert n == sum(v for (_, o), v in direct.items() if o == outcome)
    for row in report["decisions"]["months"]:
        assert row["total"] == sum(v for (m, _), v in direct.items() if m == f"{row['month']:%Y-%m}")

    # Access: people per team and role, grants in force, accounts that can sign in.
    rows = _sql(
        "SELECT t.name, g.role, count(DISTINCT g.user_id) FROM accounts_accessgrant g "
        "JOIN accounts_team t ON t.id = g.team_id JOIN accounts_user u ON u.id = g.user_id "
        f"WHERE {IN_FORCE} AND u.is_active GROUP BY t.name, g.role"
    )
    access = report["access"]
    got = {(t["team"], role): n for t in access["teams"] for role, n in t["counts"].items() if n}
    assert got == {(team, role): n for team, role, n in rows}
    for team in access["teams"]:
        assert team["total"] == sum(n for t, _, n in rows if t == team["team"])
    for role, n in access["by_role"].items():
        assert n == sum(v for _, r, v in rows if r == role)
    [(people,)] = _sql(
        "SELECT count(DISTINCT g.user_id) FROM accounts_accessgrant g JOIN accounts_user u ON u.id = g.user_id "
        f"WHERE {IN_FORCE} AND u.is_active"
    )
    assert access["people"] == people == 5  # carys, grace, hamish, zebedee, and xerxes (one grant still in force)
    [(excluded_people,)] = _sql("SELECT count(*) FROM accounts_user WHERE excluded_at IS NOT NULL")
    assert access["excluded_people"] == excluded_people == 2
    [(excluded_with_access,)] = _sql(
        "SELECT count(DISTINCT g.user_id) FROM accounts_accessgrant g JOIN accounts_user u ON u.id = g.user_id "
        f"WHERE {IN_FORCE} AND u.excluded_at IS NOT NULL"
    )
    assert access["excluded_with_access"] == excluded_with_access == 0
    assert access["excluded_hold_access"] == "No"

    # Spend: X's charged reads over the window, at the configured price.
    spend = report["spend"]
    x = next(p for p in spend["platforms"] if p["platform"] == "x")
    [(charged,)] = _sql(
        f"SELECT coalesce(sum(charged_reads), 0) FROM listening_platformusage WHERE platform = 'x' AND month >= {WINDOW_START}::date"
    )
    assert x["charged_reads"] == charged == 1340
    assert x["spend"] == Decimal(charged) * settings.EARSHOT_PRICE_PER_READ["x"] == spend["total_spend"]
    by_month = dict(_sql(
        "SELECT to_char(month, 'YYYY-MM'), sum(charged_reads) FROM listening_platformusage "
        f"WHERE platform = 'x' AND month >= {WINDOW_START}::date GROUP BY 1"
    ))
    assert {f"{m['month']:%Y-%m}": m["charged_reads"] for m in x["months"] if m["charged_reads"]} == by_month
    assert "mastodon" not in {p["platform"] for p in spend["platforms"]}

    # Circulations: how many, and the day of the latest.
    [(count, latest)] = _sql("SELECT count(*), max(created_at) FROM triage_circulation")
    assert report["circulations"]["count"] == count == 3
    assert report["circulations"]["latest"] == timezone.localtime(latest).date()
    kinds = dict(_sql("SELECT kind, count(*) FROM triage_circulation GROUP BY kind"))
    assert _nonzero({k["kind"]: k["count"] for k in report["circulations"]["by_kind"]}) == kinds

    # Retention: days per category (the default where no policy row is left), purges and their counts.
    policies = dict(_sql("SELECT category, days FROM governance_retentionpolicy"))
    categories = {c["category"]: c for c in report["retention"]["categories"]}
    for category, c in categories.items():
        if category == "foi_monitoring":
            assert c["rule"] == "Deleted within 5 days after each review meeting, and after 30 days at most"
        else:
            assert c["days"] == policies.get(category, RetentionPolicy.DEFAULT_DAYS.get(category))
            assert c["default"] is (category not in policies)
    assert categories["cases"]["days"] == 2000 and categories["harvest_runs"]["default"] is True
    since = dict(_sql(
        f"SELECT category, count(*) FROM governance_purgerecord WHERE created_at AT TIME ZONE 'Europe/London' >= {WINDOW_START} "
        "GROUP BY category"
    ))
    assert _nonzero({c: v["purges_since"] for c, v in categories.items()}) == since == {
        "foi_monitoring": 2, "untriaged_mentions": 1, "audit_log": 1,
    }
    totals_sql = (
        "(SELECT coalesce(sum(value::bigint), 0) FROM jsonb_each(counts) WHERE jsonb_typeof(value) = 'number')"
    )
    last = {
        category: (at, total)
        for category, at, total in _sql(
            f"SELECT DISTINCT ON (category) category, created_at, {totals_sql} FROM governance_purgerecord "
            "ORDER BY category, created_at DESC, id DESC"
        )
    }
    assert {c: (v["last_purge"]["at"], v["last_purge"]["total"]) for c, v in categories.items() if v["last_purge"]} == last
    assert last["foi_monitoring"][1] == 55 and last["audit_log"][1] == 7
    recent = _sql(f"SELECT category, created_at, {totals_sql} FROM governance_purgerecord ORDER BY created_at DESC, id DESC LIMIT 20")
    assert [(p["category"], p["at"], p["total"]) for p in report["retention"]["recent_purges"]] == recent


def test_it_says_yes_when_an_excluded_person_holds_access(seeded, foi_team):
    # Only a grant made around the services can do this: the access list refuses it.
    AccessGrant.objects.create(user=seeded["excluded"], team=foi_team, role=Role.FOI_ENFORCEMENT)
    access = transparency_report()["access"]
    assert (access["excluded_with_access"], access["excluded_hold_access"]) == (1, "Yes")


def test_it_costs_the_same_queries_on_an_empty_database_as_on_a_full_one(db, django_assert_num_queries, request):
    with django_assert_num_queries(16) as empty:
        transparency_report()
    request.getfixturevalue("seeded")
    with django_assert_num_queries(len(empty.captured_queries)):
        transparency_report()


# -- what must never appear -----------------------------------------------------------------------


def _outputs(client, cast):
    client.force_login(cast["admin"])
    page = client.get(reverse("governance:transparency")).content.decode()
    # The top bar names the person signed in; the report itself must not.
    article = page[page.index('<article class="transparency"'):page.index("</article>")]
    return {
        "page": page.replace(cast["admin"].username, ""),
        "article": article,
        "print": client.get(reverse("governance:transparency_print")).content.decode(),
        "json": client.get(reverse("governance:transparency_json")).content.decode(),
        "csv": client.get(reverse("governance:transparency_csv")).content.decode(),
    }


def test_no_names_and_no_content_appear_in_any_form_of_the_report(client, cast, seeded):
    outputs = _outputs(client, cast)
    cast_names = [u.username for u in cast.values() if u is not None]
    for form, text in outputs.items():
        for secret in SECRETS:
            assert secret.lower() not in text.lower(), (form, secret)
        if form != "page":
            for name in cast_names:
                assert not re.search(rf"\b{name}\b", text, re.IGNORECASE), (form, name)


def test_a_query_not_marked_publishable_never_appears(client, cast, seeded):
    for form, text in _outputs(client, cast).items():
        assert "SECRETQUERYTEXT" not in text, form
        assert "PUBLISHEDQUERYTEXT" in text, form
    listed = transparency_report()["purposes"]["searches"]
    assert [s["query"] for s in listed if not s["publishable"]] == [None, None]


# -- the four forms -------------------------------------------------------------------------------


def test_the_page_answers_every_question(client, cast, seeded, settings):
    settings.EARSHOT_PRIVACY_NOTICE_URL = "https://example.gov.uk/privacy"
    client.force_login(cast["comms_officer"])
    response = client.get(reverse("governance:transparency"))
    html = response.content.decode()
    assert response.status_code == 200
    for anchor in ('id="monitoring"', 'id="purposes"', 'id="decisions"', 'id="access"', 'id="cost"',
                   'id="circulations"', 'id="retention"', 'id="privacy-notice"'):
        assert anchor in html
    assert f'As at {timezone.localtime(response.context["report"]["as_at"]):%-d %B %Y}' in html
    assert '<span class="answer" id="excluded-answer">No</span>' in html
    assert '<a href="https://example.gov.uk/privacy" rel="noopener">' in html
    assert "In-house." in html
    assert "To answer direct engagement with the regulator." in html
    # A saved search's name is escaped like everything else.
    assert "=HYPERLINK(&quot;http://evil&quot;)" in html
    assert 'transparency_print.css" media="print"' in html


def test_the_page_says_when_no_privacy_notice_is_set(client, cast, db, settings):
    settings.EARSHOT_PRIVACY_NOTICE_URL = ""
    client.force_login(cast["foi_member"])
    html = client.get(reverse("governance:transparency")).content.decode()
    assert "No privacy notice address is set" in html
    assert "No: no social media platform is being read." in html


def test_the_printable_version_is_the_report_laid_out_for_paper(client, cast, seeded):
    client.force_login(cast["comms_officer"])
    html = client.get(reverse("governance:transparency_print")).content.decode()
    assert 'class="topbar"' not in html and "Sign out" not in html
    # The print stylesheet applies on screen too, so what you see is what prints.
    assert re.search(r'transparency_print\.css">', html)
    assert 'id="access-table"' in html and 'id="retention-table"' in html


def test_the_json_export_is_the_report(client, cast, seeded):
    client.force_login(cast["comms_officer"])
    response = client.get(reverse("governance:transparency_json"))
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="transparency-report-')
    data = json.loads(response.content)
    assert set(data) == {"as_at", "monitoring", "purposes", "decisions", "access", "spend", "circulations", "retention",
                         "privacy_notice_url"}
    report = transparency_report()
    assert data["access"] == report["access"]
    assert data["decisions"]["total"] == report["decisions"]["total"] == 9
    assert data["circulations"] == {**report["circulations"], "latest": report["circulations"]["latest"].isoformat()}
    assert Decimal(data["spend"]["total_spend"]) == report["spend"]["total_spend"]


def test_the_csv_export_holds_the_same_numbers_and_no_formulas(client, cast, seeded):
    client.force_login(cast["comms_officer"])
    response = client.get(reverse("governance:transparency_csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "item", "detail", "value"]
    index = {tuple(row[:3]): row[3] for row in rows[1:]}
    report = transparency_report()
    assert index[("access", "all teams", "people with access")] == str(report["access"]["people"])
    assert index[("access", "excluded people holding access", "")] == "No"
    assert index[("outputs circulated", "count", "")] == "3"
    assert index[("monitoring", "monitors social media", "")] == "Yes"
    assert index[("monitoring", "X", "enabled saved searches")] == "3"
    # A name that reads as a formula is written as text.
    assert ("saved search", "'=HYPERLINK(\"http://evil\")", "query") in index
    assert index[("saved search", "'=HYPERLINK(\"http://evil\")", "query")] == "not published"
    decided = sum(int(v) for (section, item, _), v in index.items() if section == "decisions" and not item.startswith("since"))
    assert decided == report["decisions"]["total"]


def test_reading_the_report_changes_nothing(client, cast, seeded):
    client.force_login(cast["admin"])  # signing in is audited; reading the report is not
    before = AuditEvent.objects.count()
    for name in ("transparency", "transparency_print", "transparency_json", "transparency_csv"):
        assert client.get(reverse(f"governance:{name}")).status_code == 200
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("name", ["transparency", "transparency_print", "transparency_json", "transparency_csv"])
def test_only_people_with_a_role_may_read_it(client, cast, name):
    url = reverse(f"governance:{name}")
    assert client.get(url).status_code == 302  # to sign in
    client.force_login(cast["outsider"])
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 405
    for role in ("comms_officer", "foi_member", "admin"):
        client.force_login(cast[role])
        assert client.get(url).status_code == 200, role


# -- the saved search's purpose and publishing ----------------------------------------------------


def test_a_saved_search_keeps_its_purpose_statement_and_publishing_choice_with_an_audit_row(client, cast, communications):
    client.force_login(cast["comms_officer"])
    response = client.post(reverse("listening:saved_search_new"), {
        "team": communications.id, "name": "Fee scams", "query": '"data protection fee"', "purpose": "engagement",
        "purpose_statement": "Warn people about fee scams.", "publishable": "on", "platforms": ["demo"],
        "interval_minutes": 5, "enabled": "on",
    })
    assert response.status_code == 302
    search = SavedSearch.objects.get()
    assert (search.purpose_statement, search.publishable) == ("Warn people about fee scams.", True)
    event = AuditEvent.objects.get(action="saved_search.create", object_id=str(search.id))
    assert "publishable" in json.dumps(event.details) and "purpose_statement" in json.dumps(event.details)
    form = client.get(reverse("listening:saved_search_edit", kwargs={"search_id": search.id})).content.decode()
    assert 'name="publishable"' in form and 'name="purpose_statement"' in form


def test_a_new_saved_search_is_not_published_unless_asked(db, communications):
    search = SavedSearch.objects.create(team=communications, name="n", query="q")
    assert search.publishable is False


def test_the_admin_edits_the_purpose_statement_and_publishing(client, cast, communications):
    search = SavedSearch.objects.create(team=communications, name="n", query="q")
    client.force_login(cast["admin"])
    form = client.get(reverse("admin:listening_savedsearch_change", args=[search.id])).content.decode()
    assert 'name="publishable"' in form and 'name="purpose_statement"' in form


# -- the setting ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["javascript:alert(1)", "example.gov.uk/privacy", "https://a b"])
def test_it_refuses_a_privacy_notice_address_that_is_not_http(value):
    import os

    env = {**os.environ, "EARSHOT_PRIVACY_NOTICE_URL": value}
    result = subprocess.run([sys.executable, "-c", "import config.settings"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "EARSHOT_PRIVACY_NOTICE_URL must be an http:// or https:// address" in result.stderr


def test_every_demo_search_says_what_it_is_for():
    from listening.demo import FOI_SEARCH, OTHER_TEAM_SEARCHES, PURPOSE_STATEMENTS, communications_searches

    names = [row[0] for row in communications_searches("regulator")] + [row[1] for row in OTHER_TEAM_SEARCHES] + [FOI_SEARCH[0]]
    assert set(PURPOSE_STATEMENTS) == set(names)
    assert all(statement for statement, _ in PURPOSE_STATEMENTS.values())
