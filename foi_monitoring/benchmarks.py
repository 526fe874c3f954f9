"""Benchmark: the five-day purge of a million monitoring rows, and the inbox while it runs.

`run()` works in a scratch database of its own (listening.benchmarks.ingest's
`scratch_database`), so it never touches real data. It loads, in set-based SQL
(INSERT … SELECT generate_series):

- monitoring rows: mentions, their FOI-monitoring hits, the FOI group's inbox items
  and authority signals, a quarter of `rows` each, all collected before a closed
  review meeting; one in twenty of those mentions is also in the Communications inbox
  as a complaint, so the cross-team exception is exercised;
- unrelated triage data: Communications mentions, hits and open inbox items
  (`triage_rows` of each), which the purge must leave alone.

Then it ANALYZEs, renders the Communications inbox page (Django test client, in
process) `samples` times for its p95, and runs the purge in a process of its own (as a
worker would) while the inbox keeps being rendered; it reports the purge's time and the
inbox p95 before and during it. Figures are printed, never asserted (DESIGN.md,
performance targets: purge <= 10 s, inbox p95 during it within 2x of before).
"""

import json
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from types import SimpleNamespace

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from listening.benchmarks.ingest import scratch_database

PLATFORM = "x"
_PURGE_CODE = (
    "import json, time\n"
    "from foi_monitoring.purge import monitoring_purge\n"
    "started = time.perf_counter()\n"
    "result = monitoring_purge(triggered_by='bench')\n"
    "print(json.dumps({'seconds': time.perf_counter() - started, 'counts': result.counts}))\n"
)


def _database_url() -> str:
    """The scratch database as a DATABASE_URL, for the purge's own process."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host, port = db.get("HOST") or "", db.get("PORT") or ""
    if host.startswith("/"):  # a unix socket (the embedded server)
        return f"postgresql://{user}{password}@{':' + str(port) if port else ''}/{db['NAME']}?host={host}"
    return f"postgresql://{user}{password}@{host or '127.0.0.1'}{':' + str(port) if port else ''}/{db['NAME']}"


def _setup():
    from accounts.models import AccessGrant, Role, Team, User
    from foi_monitoring.models import PublicAuthority, ReviewMeeting
    from listening.models import SavedSearch

    comms = Team.objects.create(name="Communications", slug="communications")
    foi = Team.objects.create(name="FOI Monitoring and Enforcement Group", slug="foi-monitoring")
    officer = User.objects.create_user(username="bench-officer", password="bench officer password")
    AccessGrant.objects.create(user=officer, team=comms, role=Role.COMMS_OFFICER, reason="benchmark")
    foi_search = SavedSearch.objects.create(team=foi, name="FOI chatter", query="FOI", purpose="foi_monitoring")
    comms_search = SavedSearch.objects.create(team=comms, name="the ICO", query='"the ICO"')
    authorities = PublicAuthority.objects.bulk_create(
        PublicAuthority(name=f"Bench Borough Council {n}", code=f"B{n:03d}") for n in range(100)
    )
    now = timezone.now()
    meeting = ReviewMeeting.objects.create(starts_at=now - timedelta(days=1), closed_at=now - timedelta(hours=20))
    return {"comms": comms, "foi": foi, "officer": officer, "foi_search": foi_search, "comms_search": comms_search,
            "authority_ids": [a.id for a in authorities], "meeting": meeting}


def _load(world, monitoring_mentions: int, triage_rows: int) -> dict:
    collected = world["meeting"].starts_at - timedelta(days=2)
    params = {
        "n": monitoring_mentions, "t": triage_rows, "collected": collected, "foi_search": world["foi_search"].id,
        "comms_search": world["comms_search"].id, "foi": world["foi"].id, "comms": world["comms"].id,
        "first_authority": min(world["authority_ids"]), "authorities": len(world["authority_ids"]),
    }
    statements = [
        # Monitoring mentions, then their hits, FOI inbox items and signals.
        "INSERT INTO listening_mention (platform, external_id, url, author_handle, author_name, text, title, lang, links,"
        " mentions, in_reply_to_handle, kind, posted_at, first_seen_at, raw)"
        " SELECT 'x', 'foi' || n, 'https://x.com/c/status/' || n, 'campaigner' || (n %% 5000), '',"
        " 'My FOI to Bench Borough Council ' || (n %% 100) || ' is overdue, day ' || n, '', 'en', '{}', '{}', '',"
        " 'post', %(collected)s, %(collected)s, '{}'::jsonb FROM generate_series(1, %(n)s) AS n",
        "INSERT INTO listening_mentionhit (mention_id, saved_search_id, spans, matched_at)"
        " SELECT id, %(foi_search)s, '{}'::jsonb, %(collected)s FROM listening_mention WHERE external_id LIKE 'foi%%'",
        "INSERT INTO triage_inboxitem (team_id, mention_id, status, created_at)"
        " SELECT %(foi)s, id, 'new', %(collected)s FROM listening_mention WHERE external_id LIKE 'foi%%'",
        "INSERT INTO foi_monitoring_authoritysignal (authority_id, mention_id, codes, author_key, occurred_at, collected_at,"
        " confidence) SELECT %(first_authority)s + (id %% %(authorities)s), id, '{overdue}', 'x:' || author_handle,"
        " %(collected)s, %(collected)s, 1 FROM listening_mention WHERE external_id LIKE 'foi%%'",
        # One in twenty monitoring mentions is also a Communications complaint: it must stay.
        "INSERT INTO listening_mentionhit (mention_id, saved_search_id, spans, matched_at)"
        " SELECT id, %(comms_search)s, '{}'::jsonb, %(collected)s FROM listening_mention"
        " WHERE external_id LIKE 'foi%%' AND id %% 20 = 0",
        "INSERT INTO triage_inboxitem (team_id, mention_id, status, created_at, decided_at)"
        " SELECT %(comms)s, id, 'done', %(collected)s, %(collected)s FROM listening_mention"
        " WHERE external_id LIKE 'foi%%' AND id %% 20 = 0",
        "INSERT INTO triage_decision (item_id, outcome, request_type, note, decided_at)"
        " SELECT id, 'complaint', '', '', %(collected)s FROM triage_inboxitem WHERE team_id = %(comms)s",
        # Unrelated triage data: the Communications inbox, open.
        "INSERT INTO listening_mention (platform, external_id, url, author_handle, author_name, text, title, lang, links,"
        " mentions, in_reply_to_handle, kind, posted_at, first_seen_at, raw)"
        " SELECT 'x', 'ico' || n, 'https://x.com/p/status/' || n, 'person' || (n %% 20000), 'Person',"
        " 'A question for the ICO about cookies, number ' || n, '', 'en', '{}', '{}', '', 'post',"
        " now() - (n || ' seconds')::interval, now(), '{}'::jsonb FROM generate_series(1, %(t)s) AS n",
        "INSERT INTO listening_mentionhit (mention_id, saved_search_id, spans, matched_at)"
        " SELECT id, %(comms_search)s, '{}'::jsonb, now() FROM listening_mention WHERE external_id LIKE 'ico%%'",
        "INSERT INTO triage_inboxitem (team_id, mention_id, status, created_at)"
        " SELECT %(comms)s, id, 'new', now() FROM listening_mention WHERE external_id LIKE 'ico%%'",
    ]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, params)
    with connection.cursor() as cursor:
        for table in ("listening_mention", "listening_mentionhit", "triage_inboxitem", "triage_decision",
                      "foi_monitoring_authoritysignal"):
            cursor.execute(f"ANALYZE {table}")
    return {"load_seconds": time.perf_counter() - started}


def _inbox_client(officer):
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(officer)
    return client


def _time_inbox(client, url) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"The inbox answered {response.status_code}")
    return elapsed


def _p95(samples: list[float]) -> float:
    if len(samples) < 2:
        return samples[0] if samples else 0.0
    return statistics.quantiles(samples, n=20)[18]


def run(rows: int = 1_000_000, triage_rows: int = 200_000, samples: int = 200) -> dict:
    with scratch_database():
        world = _setup()
        figures = _load(world, rows // 4, triage_rows)
        client = _inbox_client(world["officer"])
        url = f"/inbox/{world['comms'].slug}/"
        for _ in range(10):  # warm caches and the connection
            _time_inbox(client, url)
        before = [_time_inbox(client, url) for _ in range(samples)]

        # The purge runs in a process of its own, as it does on a Celery worker, while
        # this process keeps rendering the inbox as the web process would: sharing one
        # interpreter would make each wait for the other's turn at the GIL.
        child = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", _PURGE_CODE],
            cwd=settings.BASE_DIR, env={**os.environ, "DATABASE_URL": _database_url()},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        during = []
        while child.poll() is None:
            during.append(_time_inbox(client, url))
        out, err = child.communicate()
        if child.returncode != 0:
            raise RuntimeError(f"the purge process failed: {err[-2000:]}")
        outcome = json.loads(out.strip().splitlines()[-1])
        result = SimpleNamespace(counts=outcome["counts"])
        figures.update({
            "monitoring_rows": 4 * (rows // 4), "triage_rows": triage_rows, "purge_seconds": outcome["seconds"],
            "connections": settings.EARSHOT_FOI_PURGE_CONNECTIONS,
            "counts": result.counts, "inbox_p95_before": _p95(before), "inbox_p95_during": _p95(during),
            "samples_before": len(before), "samples_during": len(during),
        })
    return figures


def format_report(f: dict) -> str:
    ratio = f["inbox_p95_during"] / f["inbox_p95_before"] if f["inbox_p95_before"] else 0.0
    deleted = sum(f["counts"].values())
    met = f["purge_seconds"] <= 10 and ratio <= 2
    lines = [
        f"Five-day purge: {f['monitoring_rows']:,} monitoring rows (mentions, hits, inbox items, signals) "
        f"beside {f['triage_rows']:,} Communications mentions with hits and open inbox items",
        f"  load (set-based SQL) and ANALYZE: {f['load_seconds']:.1f} s",
        f"  purge: {f['purge_seconds']:.2f} s on {f.get('connections', 1)} connection(s)"
        f" (EARSHOT_FOI_PURGE_CONNECTIONS), {deleted:,} rows deleted",
        *[f"    {table}: {n:,}" for table, n in f["counts"].items()],
        f"  inbox page p95 before: {f['inbox_p95_before'] * 1000:.1f} ms ({f['samples_before']} requests)",
        f"  inbox page p95 during: {f['inbox_p95_during'] * 1000:.1f} ms ({f['samples_during']} requests) "
        f"-> {ratio:.2f}x of before",
        f"  target (purge <= 10 s, inbox p95 during <= 2x before): {'met' if met else 'NOT met'}",
    ]
    return "\n".join(lines)
