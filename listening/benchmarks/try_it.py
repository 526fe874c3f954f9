"""Benchmark: "Try it" over 30 days with a million stored mentions.

`try_it_figures()` works in a scratch database of its own (created, migrated and
dropped, see `ingest.scratch_database`), so it never touches real data.

1. Load `mentions` mentions in set-based SQL (INSERT … SELECT generate_series), first
   seen across the last `spread_days` days, each in one of four teams' inboxes. Texts
   are a topical phrase (the ICO, GDPR, FOI, journalists' requests, or everyday
   chatter) and a dozen everyday words; some link to ico.org.uk, some reply to the
   Commissioner, some mention @ICOnews, 20 of 50,000 authors are on a watch list.
   `prefilter_text` is computed in the same SQL (the texts are ASCII but for `é`,
   translated as the skeleton would), then checked against Python's
   `stored_haystack` on a sample; the indexes are built after the load.
2. ANALYZE, as autovacuum would.
3. POST each query to "Try it" (Django test client, in process) as an admin (every
   team) and as a comms officer (one team), `repeats` times each, and report the
   server time's p50 and p95, and how often the count was exact or a lower bound.

The machine's load shows in the figures: they are printed, never asserted
(DESIGN.md, performance targets: "Try it" p95 <= 300 ms).
"""

import random
import statistics
import time
from collections.abc import Sequence

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse

from listening.benchmarks.ingest import scratch_database

PLATFORM = "x"
WATCH_LIST = "tech journalists"

QUERIES = (
    '"the ICO"',
    "to:commissioner",
    "links:ico.org.uk",
    '"ICO registration letter" OR "data protection fee"',
    'list:"tech journalists" (#journorequest OR journorequest OR journorequests OR "PR request" OR #PRRequest '
    'OR "DMs open" OR "get in touch" OR "data protection" OR GDPR OR FOI OR privacy)',
    "cafe",
    "journo*",
    "#FOI OR {FOI}",
    '"subject access" NEAR/3 request',
    "privacy NOT cookie",
    "GDPR fine*",
    "xylophone",
)

# One of these starts each text (chosen by a hash of the row number), so each is in
# about 1 in 60 mentions; the everyday ones dilute the topical ones.
PHRASES = (
    "Complained to the ICO about",
    "the ICO has fined",
    "Information Commissioner says",
    "GDPR breach at",
    "a GDPR fine for",
    "paid the data protection fee after",
    "ICO registration letter arrived about",
    "is this ICO registration letter a scam",
    "FOI request to the council about",
    "my #FOI came back on",
    "#journorequest looking for",
    "journorequests: need a privacy expert on",
    "PR request: data protection and",
    "DMs open for anyone on",
    "get in touch if you know",
    "privacy notice updated for",
    "cookie banner hell on",
    "privacy and cookie policy of",
    "subject access request refused by",
    "made a subject access request to",
    "Café owner fined over",
    "best cafe in town near",
    "data breach reported at",
    "politico reports on",
    "iconic photo of",
    "unicode bug in",
    "#GDPR explained for",
    "the Commissioner's office on",
    "freedom of information about",
    "journalism awards for",
) + tuple(
    f"{a} {b}" for a, b in zip(
        ("lovely", "terrible", "cold", "sunny", "rainy", "busy", "quiet", "great", "awful", "late",
         "early", "long", "short", "happy", "sad", "new", "old", "big", "small", "free"),
        ("weather today in", "match last night at", "traffic again on", "morning walk by", "train delays to",
         "lunch spot near", "concert tonight at", "news from", "queue outside", "bus service to",
         "start at", "weekend in", "break at", "birthday to", "news about", "season at", "day for",
         "crowd at", "change at", "tickets for"),
    )
)

WORDS = (
    "the a of and to in is for on with that this it was at by from be are as have has not but we they you "
    "council school road park town city county people time year week day night morning evening today "
    "tomorrow yesterday news report update service public local national government minister policy plan "
    "money budget tax health hospital doctor nurse patient police crime court judge case law rules office "
    "staff team work job meeting email phone letter post online website app account password security "
    "customer complaint refund order delivery shop market price cost energy water gas bill rent house home "
    "family friend child parent student teacher class exam result game football cricket rugby club match "
    "goal win lose draw player coach fan ticket music film book art show festival holiday travel train bus "
    "car bike walk run weather rain snow sun wind cold warm hot"
).split()


# Handles like `janesmith0`: 100 first parts x 100 last parts x 5, so 50,000 authors
# whose trigrams are as varied as real handles'.
FIRST_PARTS = [a + b for a in ("jo", "ma", "sa", "al", "be", "ka", "ri", "to", "el", "ni")
               for b in ("ne", "ry", "ra", "ex", "th", "te", "ck", "by", "la", "na")]
LAST_PARTS = [a + b for a in ("smi", "jon", "tay", "bro", "wil", "dav", "eva", "tho", "rob", "wal")
              for b in ("th", "es", "lor", "wn", "son", "ies", "ns", "mas", "erts", "ker")]
AUTHORS = 50_000


def handle(k: int) -> str:
    """The author of mention n is handle(n % AUTHORS), as the SQL load writes it."""
    return f"{FIRST_PARTS[k % 100]}{LAST_PARTS[(k // 100) % 100]}{(k // 10_000) % 5}"


def _setup(world_size: int = 4):
    from accounts.models import AccessGrant, Role, Team, User
    from listening.models import WatchList, WatchListMember

    teams = [Team.objects.create(name=f"Bench team {n}", slug=f"bench-{n}") for n in range(world_size)]
    admin = User.objects.create_user(username="bench-admin", password="bench admin password")
    AccessGrant.objects.create(user=admin, team=teams[0], role=Role.ADMIN, reason="benchmark")
    officer = User.objects.create_user(username="bench-officer", password="bench officer password")
    AccessGrant.objects.create(user=officer, team=teams[0], role=Role.COMMS_OFFICER, reason="benchmark")
    watch_list = WatchList.objects.create(name=WATCH_LIST)
    WatchListMember.objects.bulk_create(
        WatchListMember(watch_list=watch_list, platform=PLATFORM, handle=handle(n * 2_477)) for n in range(1, 21)
    )
    return {"teams": teams, "admin": admin, "officer": officer}


# prefilter_text is stored_haystack in SQL, for these ASCII-but-`é` rows: text,
# title, URL, links, @mentions, then author, reply-to, platform, language, kind.
_LOAD_MENTIONS = """
INSERT INTO listening_mention (platform, external_id, url, author_handle, author_name, text, title, lang, links,
                               mentions, in_reply_to_handle, kind, posted_at, first_seen_at, raw, prefilter_text)
SELECT 'x', 'b' || n, url, author, '', text, '', 'en', links, mentions, reply_to, kind, seen, seen, '{}'::jsonb,
       concat_ws(E'\\n', translate(lower(text), 'é', 'e'), '', lower(url),
                 NULLIF(lower(array_to_string(links, E'\\n')), ''),
                 NULLIF(array_to_string(ARRAY(SELECT '@' || lower(m) FROM unnest(mentions) AS m), E'\\n'), ''),
                 lower(author), reply_to, 'x', 'en', kind)
FROM (
    SELECT n, author, 'https://x.com/' || author || '/status/' || n AS url,
           (%(phrases)s::text[])[1 + (pg_temp.hashint(n) %% %(phrase_count)s)] || ' '
             || (SELECT string_agg((%(words)s::text[])[1 + floor(random() * %(word_count)s)::int], ' ')
                 FROM generate_series(1, 8 + (n %% 9))) AS text,
           CASE WHEN n %% 20 = 0 THEN ARRAY['https://ico.org.uk/for-the-public/' || n]
                WHEN n %% 20 = 1 THEN ARRAY['https://www.bbc.co.uk/news/' || n] ELSE '{}'::text[] END AS links,
           CASE WHEN n %% 10 = 0 THEN ARRAY['ICOnews']::varchar[] ELSE '{}'::varchar[] END AS mentions,
           CASE WHEN n %% 100 = 0 THEN 'commissioner' ELSE '' END AS reply_to,
           CASE WHEN n %% 100 = 0 THEN 'reply' ELSE 'post' END AS kind,
           now() - (n * %(spread)s::float8 / %(count)s) * interval '1 day' AS seen
    FROM generate_series(1, %(count)s) AS n,
         LATERAL (SELECT (%(first)s::text[])[1 + (n %% %(authors)s) %% 100]
                         || (%(last)s::text[])[1 + ((n %% %(authors)s) / 100) %% 100]
                         || ((n %% %(authors)s) / 10000) %% 5 AS author) AS a
) AS m
"""

_HASHINT = """
CREATE OR REPLACE FUNCTION pg_temp.hashint(n bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS
$$ SELECT abs(hashtextextended(n::text, 7)) $$
"""

_INDEXES = ("mention_prefilter_trgm_idx", "mention_prefilter_missing_idx", "mention_search_vector_idx")


def _load(world, count: int, spread_days: int) -> dict:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'listening_mention' AND indexname = ANY(%s)",
            [list(_INDEXES)],
        )
        definitions = cursor.fetchall()
    with transaction.atomic(), connection.cursor() as cursor:
        # Indexes are built once after the load, as a bulk load does.
        for name, _ in definitions:
            cursor.execute(f"DROP INDEX {name}")
        cursor.execute(_HASHINT)
        cursor.execute(
            _LOAD_MENTIONS,
            {"phrases": list(PHRASES), "phrase_count": len(PHRASES), "words": list(WORDS), "word_count": len(WORDS),
             "spread": spread_days, "count": count, "first": FIRST_PARTS, "last": LAST_PARTS, "authors": AUTHORS},
        )
        teams = [team.id for team in world["teams"]]
        cursor.execute(
            "INSERT INTO triage_inboxitem (team_id, mention_id, status, created_at)"
            " SELECT (%s::bigint[])[1 + (id %% %s)], id, 'new', first_seen_at FROM listening_mention",
            [teams, len(teams)],
        )
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in definitions:
            cursor.execute(definition)
        cursor.execute("RESET maintenance_work_mem")
        for table in ("listening_mention", "triage_inboxitem"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return {"load_seconds": loaded, "index_seconds": time.perf_counter() - started,
            "indexes": [name for name, _ in definitions]}


def _check_prefilter_text(sample: int = 2000) -> int:
    """How many of a sample of loaded rows hold other than Python's `stored_haystack` (should be 0)."""
    from listening.models import Mention
    from listening.query.prefilter import stored_haystack

    wrong = 0
    for mention in Mention.objects.order_by("?")[:sample]:
        if mention.prefilter_text != stored_haystack(mention.as_post()):
            wrong += 1
    return wrong


def _client(user):
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    # An admin's session must have given a second factor (accounts/two_factor.py): the
    # benchmark's admin gets a confirmed device, and its session counts as having used it.
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.two_factor import totp_required

    if totp_required(user):
        device = TOTPDevice.objects.create(user=user, name="benchmark", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def _time_try(client, query: str, days: int) -> tuple[float, str]:
    started = time.perf_counter()
    response = client.post(reverse("listening:saved_search_try"), {"query": query, "days": days})
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"Try it answered {response.status_code} for {query!r}")
    body = response.content.decode()
    outcome = "lower bound" if "At least" in body else "exact"
    return elapsed, outcome


def _percentile(samples: Sequence[float], which: int) -> float:
    if len(samples) < 2:
        return samples[0] if samples else 0.0
    return statistics.quantiles(samples, n=100, method="inclusive")[which - 1]


def try_it_figures(
    *, mentions: int = 1_000_000, spread_days: int = 30, days: int = 30, repeats: int = 5,
    queries: Sequence[str] = QUERIES, seed: int = 20261202,
) -> dict:
    """Load the store, then time "Try it" for each query as an admin and as an officer."""
    random.seed(seed)
    with scratch_database():
        world = _setup()
        figures = _load(world, mentions, spread_days)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM listening_mention WHERE first_seen_at >= now() - %s * interval '1 day'", [days])
            figures["in_window"] = cursor.fetchone()[0]
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            figures["trigram_index"] = cursor.fetchone() is not None
        figures["prefilter_text_wrong"] = _check_prefilter_text()
        clients = {"admin": _client(world["admin"]), "officer": _client(world["officer"])}
        for client in clients.values():  # warm the connection, caches and the watch lists
            _time_try(client, QUERIES[0], days)
        rows = []
        for query in queries:
            for role, client in clients.items():
                samples, outcomes = [], []
                for _ in range(repeats):
                    elapsed, outcome = _time_try(client, query, days)
                    samples.append(elapsed)
                    outcomes.append(outcome)
                rows.append({"query": query, "role": role, "samples": samples, "outcomes": outcomes})
        everything = [sample for row in rows for sample in row["samples"]]
        figures.update({
            "mentions": mentions, "days": days, "spread_days": spread_days, "repeats": repeats, "rows": rows,
            "p50": _percentile(everything, 50), "p95": _percentile(everything, 95),
            "budget": settings.EARSHOT_TRY_IT_BUDGET_SECONDS,
        })
    return figures


def format_report(f: dict) -> str:
    exact = sum(outcome == "exact" for row in f["rows"] for outcome in row["outcomes"])
    total = sum(len(row["outcomes"]) for row in f["rows"])
    lines = [
        f'"Try it" over {f["days"]} days: {f["mentions"]:,} mentions first seen over {f["spread_days"]} days '
        f'({f["in_window"]:,} in the window), each in one of four team inboxes',
        f'  load (set-based SQL): {f["load_seconds"]:.1f} s; indexes and VACUUM ANALYZE: {f["index_seconds"]:.1f} s',
        f'  trigram index: {"yes" if f["trigram_index"] else "NO (no pg_trgm on this server: LIKE checked per row)"}; '
        f'prefilter text differing from Python on a sample: {f["prefilter_text_wrong"]}',
        f'  budget: {f["budget"]} s; {f["repeats"]} requests per query and role (admin: every team; officer: one)',
        "  query                                              role      p50 ms   p95 ms  count",
    ]
    for row in f["rows"]:
        query = row["query"] if len(row["query"]) <= 50 else row["query"][:47] + "..."
        outcome = "exact" if all(o == "exact" for o in row["outcomes"]) else (
            "lower bound" if all(o == "lower bound" for o in row["outcomes"]) else "mixed")
        lines.append(
            f'  {query:<50} {row["role"]:<8} {_percentile(row["samples"], 50) * 1000:>8.1f} '
            f'{_percentile(row["samples"], 95) * 1000:>8.1f}  {outcome}'
        )
    lines += [
        f'  all requests: p50 {f["p50"] * 1000:.1f} ms, p95 {f["p95"] * 1000:.1f} ms; '
        f"{exact} of {total} gave the exact count, the rest a lower bound",
        f'  target (p95 <= 300 ms): {"met" if f["p95"] <= 0.3 else "NOT met"} '
        "(server time in process; the machine is shared, so figures vary between runs)",
    ]
    return "\n".join(lines)
