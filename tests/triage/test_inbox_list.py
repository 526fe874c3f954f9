"""The inbox list: filters, counts, keyset pages and full-text search, all in the address."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from listening.models import MentionHit, SavedSearch
from triage import inbox_list
from triage.models import InboxItem
from triage.services import inbox_item_decide

INBOX = "/inbox/communications/"


@pytest.fixture
def signed_in(client, comms_officer):
    client.force_login(comms_officer)
    return client


def _ids(body: str) -> list[int]:
    return [int(n) for n in re.findall(r'<li class="item" id="item-(\d+)"', body)]


def _get(client, **params) -> str:
    response = client.get(INBOX, params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def mixed(communications, make_item, comms_officer, admin_user):
    """Items of every kind: platforms, a saved search's hits, assigned, decided, with a case."""
    search = SavedSearch.objects.create(team=communications, name="Cookies", query="cookies")
    items = {
        "x_new": make_item(communications, platform="x", text="Cookies on the council site"),
        "bsky_new": make_item(communications, platform="bluesky", text="A bluesky post about parking"),
        "mine": make_item(communications, platform="x", text="Assigned to carys"),
        "news": make_item(communications, platform="x", text="Council wins an award"),
        "foi": make_item(communications, platform="mastodon", text="My FOI request"),
    }
    MentionHit.objects.create(mention=items["x_new"].mention, saved_search=search, spans={"text": [[0, 7]]})
    InboxItem.objects.filter(pk=items["mine"].pk).update(assignee=comms_officer, status="in_progress")
    inbox_item_decide(item=items["news"], outcome="news_item", actor=admin_user)
    inbox_item_decide(item=items["foi"], outcome="information_request", request_type="foi", actor=admin_user)
    return {"search": search, **items}


def test_every_filter_narrows_the_list_and_stays_in_the_address(signed_in, mixed):
    ids = {name: item.id for name, item in mixed.items() if name != "search"}
    assert set(_ids(_get(signed_in))) == {ids["x_new"], ids["bsky_new"], ids["mine"]}
    assert _ids(_get(signed_in, platform="bluesky")) == [ids["bsky_new"]]
    assert _ids(_get(signed_in, status="in_progress")) == [ids["mine"]]
    assert set(_ids(_get(signed_in, status="new"))) == {ids["x_new"], ids["bsky_new"]}
    assert _ids(_get(signed_in, assignee="mine")) == [ids["mine"]]
    assert set(_ids(_get(signed_in, assignee="none"))) == {ids["x_new"], ids["bsky_new"]}
    assert _ids(_get(signed_in, search=mixed["search"].id)) == [ids["x_new"]]
    assert set(_ids(_get(signed_in, status="done"))) == {ids["news"], ids["foi"]}
    assert _ids(_get(signed_in, outcome="news_item")) == [ids["news"]]  # an outcome implies decided items
    assert _ids(_get(signed_in, status="done", case="yes")) == [ids["foi"]]
    assert _ids(_get(signed_in, status="done", case="no")) == [ids["news"]]
    today = timezone.localdate()
    assert len(_ids(_get(signed_in, since=today.isoformat(), until=today.isoformat()))) == 3
    assert _ids(_get(signed_in, since=(today + timedelta(days=1)).isoformat())) == []
    assert _ids(_get(signed_in, sort="oldest")) == sorted(_ids(_get(signed_in)))
    # The filter bar's links carry the other filters with them.
    body = _get(signed_in, platform="x", assignee="mine")
    assert f'href="{INBOX}?status=done&amp;platform=x&amp;assignee=mine"' in body


def test_unknown_filter_values_are_ignored_with_a_message(signed_in, mixed):
    body = _get(signed_in, platform="myspace", since="yesterday", status="<b>", search="9" * 30, assignee="-1")
    assert "Unknown platform “myspace” ignored." in body and "Unknown status “&lt;b&gt;” ignored." in body
    assert "The “from” date must be a date" in body and "Unknown search" in body and "Unknown assignee" in body
    assert len(_ids(body)) == 3
    body = _get(signed_in, q="word " * 60)
    assert "Search for at most 200 characters." in body and len(_ids(body)) == 3
    body = _get(signed_in, until="9999-12-31", since="0001-01-01")
    assert "The “to” date must be a date" in body and len(_ids(body)) == 3
    body = _get(signed_in, q="-cookies")  # only a word to leave out: nothing to search for, nothing scanned
    assert "Nothing to search for" in body and len(_ids(body)) == 3


def test_counts_per_filter_value_are_shown_and_bounded(signed_in, mixed, communications, make_item, monkeypatch):
    body = _get(signed_in)
    # The list does not wait for its counts: they come from the same address with counts=1.
    assert 'id="open-count"' not in body and f'hx-get="{INBOX}?&amp;counts=1" hx-trigger="load"' in body
    assert f'<a href="{INBOX}?&amp;counts=1">Show counts</a>' in body
    body = _get(signed_in, counts="1")
    assert '<span class="count" id="open-count">3</span>' in body
    assert re.search(r'platform=bluesky"[^>]*>Bluesky <span class="count">1</span>', body)
    assert re.search(r'assignee=mine"[^>]*>Mine <span class="count">1</span>', body)
    assert re.search(r'status=done"[^>]*>Decided <span class="count">2</span>', body)
    # A facet's counts apply the other filters: on Bluesky, nothing is assigned.
    body = _get(signed_in, platform="bluesky", counts="1")
    assert re.search(r'>Unassigned <span class="count">1</span>', body) and ">Mine <span" not in body
    # Counted over the newest COUNT_WINDOW items only: beyond that, each count is a lower bound.
    monkeypatch.setattr(inbox_list, "COUNT_WINDOW", 4)
    body = _get(signed_in, counts="1")
    assert '<span class="count" id="open-count">3+</span>' in body and "each count is at least" in body
    # The htmx request for the counts answers with the filter bar alone.
    fragment = signed_in.get(INBOX, {"counts": "1"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="inbox-facets").content.decode()
    assert fragment.lstrip().startswith('<div class="facets" id="inbox-facets">') and "inbox-items" not in fragment


def test_keyset_pages_visit_every_item_once_even_with_tied_times(signed_in, communications, make_item, admin_user, monkeypatch):
    monkeypatch.setattr(inbox_list, "PAGE_SIZE", 2)
    items = [make_item(communications, text=f"Post {n}") for n in range(7)]
    for item in items:
        inbox_item_decide(item=item, outcome="no_action", actor=admin_user)
    tied = timezone.now() - timedelta(hours=1)
    InboxItem.objects.filter(pk__in=[i.pk for i in items[1:6]]).update(decided_at=tied)
    for status, sort in (("done", "newest"), ("done", "oldest"), ("open", "newest")):
        if status == "open":
            InboxItem.objects.update(status="new", decided_at=None)
        seen, url = [], f"{INBOX}?status={status}&sort={sort}"
        with CaptureQueriesContext(connection) as queries:
            while url:
                body = signed_in.get(url.replace("&amp;", "&")).content.decode()
                seen += _ids(body)
                found = re.search(r'<a href="([^"]+)"[^>]*rel="next"', body)
                url = found.group(1) if found else ""
        assert sorted(seen) == sorted(i.id for i in items) and len(seen) == 7, (status, sort, seen)
        assert not any("OFFSET" in q["sql"] for q in queries.captured_queries)


def _page_queries(client, **params) -> int:
    headers = {k: params.pop(k) for k in list(params) if k.startswith("HTTP_")}
    with CaptureQueriesContext(connection) as queries:
        assert client.get(INBOX, params, **headers).status_code == 200
    return len(queries.captured_queries)


def test_the_page_query_count_is_fixed_whatever_the_page_size_and_filters(signed_in, mixed, communications, make_item, monkeypatch):
    for n in range(30):
        item = make_item(communications, platform="x", text=f"Cookies again #foi {n}")
        MentionHit.objects.create(mention=item.mention, saved_search=mixed["search"], spans={"text": [[0, 7]]})
    signed_in.get(INBOX)  # warm the session
    baseline = _page_queries(signed_in)
    # session, user, grants, team, saved searches, members, the page, teams, spike banner
    assert baseline == 9
    counts = {"counts": "1", "HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "inbox-facets"}
    counts_baseline = _page_queries(signed_in, **counts)
    # session, user, grants, team, saved searches, members, the counts
    assert counts_baseline == 7
    combos = [
        {}, {"platform": "x"}, {"platform": "reddit"}, {"status": "done"}, {"outcome": "information_request"},
        {"q": "cookies"}, {"q": "#foi @someone"}, {"q": "nothing-matches-this"}, {"assignee": "mine", "case": "no"},
        {"search": mixed["search"].id, "sort": "oldest"}, {"since": "2020-01-01", "until": "2030-01-01"},
        {"cursor": "999999"}, {"status": "done", "cursor": "2026-01-01T00:00:00+00:00_5"},
    ]
    for size in (1, 5, 50):
        monkeypatch.setattr(inbox_list, "PAGE_SIZE", size)
        for params in combos:
            # A search page also finds where its window ends (inbox_list._search_window_end).
            expected = baseline + 1 if params.get("q") else baseline
            assert _page_queries(signed_in, **params) == expected, (size, params)
            assert _page_queries(signed_in, **params, **counts) == counts_baseline, (size, params)


# Full-text search --------------------------------------------------------------------


@pytest.fixture
def posts(communications, make_item):
    texts = {
        "tag": "Waiting on my #FOI to the council",
        "tag_longer": "Read about #FOIA in the US",
        "word": "An FOI request, no tag",
        "mention": "Thanks @jane for the help",
        "other_handle": "Thanks @janet for the help",
        "link": "Read https://ico.org.uk/news/fines today",
        "phrase": "A complaint to the ICO about cookies",
        "hostile": "FOI <script>alert(1)</script> complaints",
    }
    made = {name: make_item(communications, text=text) for name, text in texts.items()}
    made["author"] = make_item(communications, text="Something else entirely", author_handle="Jane")
    return made


@pytest.mark.parametrize(
    "q, expected",
    [
        ("#foi", {"tag"}),
        ("@jane", {"mention", "author"}),
        ("foi", {"tag", "word", "hostile"}),
        ("https://ico.org.uk/news/fines", {"link"}),
        ("ico.org.uk", {"link"}),
        ('"the ICO"', {"phrase"}),
        ("complaint", {"phrase", "hostile"}),
        ("complaint -cookies", {"hostile"}),
        ("#the", set()),
    ],
)
def test_search_finds_words_tags_handles_and_links_as_typed(signed_in, posts, q, expected):
    body = _get(signed_in, q=q)
    assert set(_ids(body)) == {posts[name].id for name in expected}, q


def test_search_highlights_the_words_escaped_beside_the_saved_search_spans(signed_in, posts, communications):
    search = SavedSearch.objects.create(team=communications, name="Complaints", query="complaints")
    MentionHit.objects.create(mention=posts["hostile"].mention, saved_search=search, spans={"text": [[30, 40]]})
    body = _get(signed_in, q="foi")
    assert '<mark class="found">FOI</mark> &lt;script&gt;alert(1)&lt;/script&gt; <mark>complaints</mark>' in body
    assert "#<mark class=\"found\">FOI</mark> to the council" in body
    assert "<script>alert" not in body


def test_search_and_filters_are_in_the_address_of_the_next_page(signed_in, communications, make_item, monkeypatch):
    monkeypatch.setattr(inbox_list, "PAGE_SIZE", 1)
    for n in range(3):
        make_item(communications, platform="x", text=f"#foi number {n}")
    body = _get(signed_in, q="#foi", platform="x")
    nxt = re.search(r'<a href="([^"]+)"[^>]*rel="next"', body).group(1)
    assert "q=%23foi" in nxt and "platform=x" in nxt and "cursor=" in nxt
    assert 'value="#foi"' in body


def _follow(client, url: str) -> tuple[list[int], list[str]]:
    """Every item id over the pages from `url` on, and each page's body."""
    seen, bodies = [], []
    while url:
        response = client.get(url.replace("&amp;", "&"))
        assert response.status_code == 200
        body = response.content.decode()
        seen += _ids(body)
        bodies.append(body)
        found = re.search(r'<a href="([^"]+)"[^>]*rel="next"', body)
        url = found.group(1) if found else ""
    return seen, bodies


@pytest.mark.parametrize("status, sort", [("open", "newest"), ("open", "oldest"), ("done", "newest"), ("done", "oldest")])
def test_a_search_reads_a_bounded_window_then_offers_to_search_further_back(
    signed_in, communications, make_item, admin_user, monkeypatch, status, sort
):
    """However rare the matches, a search page reads at most SEARCH_WINDOW items, and following
    "Search further back" finds every match exactly once."""
    monkeypatch.setattr(inbox_list, "SEARCH_WINDOW", 4)
    monkeypatch.setattr(inbox_list, "PAGE_SIZE", 2)
    items = [make_item(communications, text=("Pothole on Mill Lane" if n in (1, 8, 9, 10) else f"Weather {n}"))
             for n in range(12)]
    if status == "done":
        for item in items:
            inbox_item_decide(item=item, outcome="no_action", actor=admin_user)
        tied = timezone.now() - timedelta(hours=1)  # ties on the time, broken by id
        InboxItem.objects.filter(pk__in=[i.pk for i in items[3:9]]).update(decided_at=tied)
    matching = {items[n].id for n in (1, 8, 9, 10)}

    seen, bodies = _follow(signed_in, f"{INBOX}?status={status}&sort={sort}&q=pothole")
    assert sorted(seen) == sorted(matching) and len(seen) == len(matching), (seen, matching)
    # 12 items, 4 a window: at least three requests, and at most two rows a page.
    assert len(bodies) >= 3 and all(len(_ids(body)) <= 2 for body in bodies)
    assert any("Search further back" in body and 'id="search-window"' in body for body in bodies)


def test_a_search_over_fewer_items_than_its_window_says_nothing_of_windows(signed_in, communications, make_item):
    for n in range(3):
        make_item(communications, text=f"Pothole number {n}")
    body = _get(signed_in, q="pothole")
    assert len(_ids(body)) == 3 and 'id="search-window"' not in body and 'rel="next"' not in body


def test_a_search_whose_window_holds_no_match_says_so(signed_in, communications, make_item, monkeypatch):
    monkeypatch.setattr(inbox_list, "SEARCH_WINDOW", 2)
    old = make_item(communications, text="Pothole on Mill Lane")
    for n in range(3):
        make_item(communications, text=f"Weather {n}")
    body = _get(signed_in, q="pothole")
    assert _ids(body) == [] and "none of them matched" in body and "Search further back" in body
    seen, _ = _follow(signed_in, f"{INBOX}?q=pothole")
    assert seen == [old.id]


def test_a_search_counts_its_matches_in_its_window_as_lower_bounds(signed_in, communications, make_item, monkeypatch):
    make_item(communications, platform="bluesky", text="Pothole on Mill Lane")  # beyond the window
    for n in range(3):
        make_item(communications, platform="x", text=f"Weather {n}")
    make_item(communications, platform="x", text="Another pothole")
    body = _get(signed_in, q="pothole", counts="1")
    assert '<span class="count" id="open-count">2</span>' in body and "each count is at least" not in body
    assert re.search(r'platform=bluesky[^"]*"[^>]*>Bluesky <span class="count">1</span>', body)
    monkeypatch.setattr(inbox_list, "SEARCH_WINDOW", 3)
    body = _get(signed_in, q="pothole", counts="1")
    assert '<span class="count" id="open-count">1+</span>' in body
    assert "A search counts its matches among the newest 3 items" in body
    assert not re.search(r'>Bluesky <span class="count">', body)  # counted nowhere in the window: not offered


def test_the_search_window_bound_reads_only_the_page_order_index(communications, make_item, admin_user):
    """Finding where a search's window ends is an index-only walk, open or decided."""
    items = [make_item(communications, text=f"Post {n}") for n in range(5)]
    inbox_item_decide(item=items[0], outcome="no_action", actor=admin_user)
    for status, index in (("open", "inbox_open_idx"), ("done", "inbox_done_idx")):
        filters, _ = inbox_list.filters_read({"status": status, "q": "post"}, search_ids=set(), member_ids=set())
        unsearched = inbox_list.replace(filters, q="", parsed=inbox_list.ParsedSearch())
        items_sql = inbox_list._ordered(
            inbox_list.filtered_items(team_id=communications.id, filters=unsearched, user_id=0), filters
        ).only(*(("id", "decided_at") if status == "done" else ("id",)))
        sql, params = items_sql[:1].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert f"Index Only Scan using {index}" in plan, (status, plan)


def test_connections_run_without_jit_or_parallel_workers(db):
    """Inbox pages read a few hundred rows: JIT and parallel workers' start-up would cost more than the page."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), current_setting('max_parallel_workers_per_gather')")
        assert cursor.fetchone() == ("off", "0")


def test_search_uses_the_full_text_index(posts):
    """The search condition is one the GIN index on search_vector (and, for @handles, the author index) answers."""
    from django.db.models import F

    from listening.models import Mention
    from triage.inbox_search import MentionSearch, search_parse

    for q in ("foi", "#foi", "ico.org.uk", '"the ICO"', "complaint -cookies", "@jane"):
        mentions = Mention.objects.filter(MentionSearch(search_parse(q), anchor=F("text"))).values("id")
        sql, params = mentions.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "Bitmap Index Scan on mention_search_vector_idx" in plan, (q, plan)
        if q == "@jane":  # the author, in any case, by its own index
            assert "Bitmap Index Scan on mention_author_handle_upper_idx" in plan, plan
        assert len(Mention.objects.filter(MentionSearch(search_parse(q), anchor=F("text")))) >= 1, q


def test_every_htmx_link_has_the_same_href_so_the_page_works_without_javascript(signed_in, mixed, monkeypatch):
    monkeypatch.setattr(inbox_list, "PAGE_SIZE", 1)
    body = _get(signed_in, cursor="999999999", platform="x")
    links = re.findall(r"<a ([^>]*hx-get=[^>]*)>", body)
    assert len(links) > 10
    for attributes in links:
        assert re.search(r'href="([^"]+)"', attributes).group(1) == re.search(r'hx-get="([^"]+)"', attributes).group(1)
    assert re.search(r'<form class="inbox-filters"[^>]*method="get" action="/inbox/communications/"', body)
