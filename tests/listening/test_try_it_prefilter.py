"""“Try it” narrows the window in SQL, and the SQL prefilter never drops a post the exact matcher accepts."""

import itertools

import pytest
from django.db import connection
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from listening.ingest import page_store
from listening.models import Mention
from listening.posts import Post
from listening.prefilter_sql import prefilter_condition
from listening.query import WatchLists, parse
from listening.selectors import stored_matches

WORDS = [
    "privacy", "gdpr", "ico", "data", "breach", "café", "cafe", "straße", "strasse", "fine", "the", "FOI", "naïve",
    "journorequest", "résumé", "ﬁne", "ΣΊΣΥΦΟΣ", "istanbul", "İstanbul", "Ａbc", "x2", "10",
]
HANDLES = ["ICOnews", "jane.bsky.social", "bob_99", "commissioner", "Zoë", "Jane"]
DOMAINS = ["ico.org.uk", "news.ico.org.uk", "gov.uk", "example.com", "STRASSE.de"]
LISTS_BY_PLATFORM = {
    "x": {"Tech Journalists": {"@ICOnews", "jane.bsky.social"}, "mps": {"bob_99"}},
    "bluesky": {"tech journalists": {"Zoë"}},
}
TEXT_PIECES = WORDS + [
    "Privacy", "PRIVACY", "GDPR", "Café", "CAFE", "CAFÉ", "cafe\u0301", "STRASSE", "#privacy", "#GDPR", "#FOI",
    "#data_protection", "#JournoRequest", "#journorequests", "@ICOnews", "@iconews.", "@jane.bsky.social", "@Jane",
    "@Zoe\u0308", "jane@example.com", "e-mail", "e mail", "ICO's", "The ICO", "the\u00a0ICO", "(see https://ico.org.uk/about).",
    "www.gov.uk", "https://STRASSE.de/x", "10:30", "🙂", "—", ",", ".", "\u0345", "x\u0345y", "\u0345ico", "ǅ", "\x00",
    "Journalism", "adjourn", "iconic", "²", "①", "ＩＣＯ", "ﬁne", "ı", "İ",
]


@st.composite
def text_terms(draw):
    kind = draw(st.integers(0, 8))
    chosen = draw(st.sampled_from(WORDS))
    if kind == 0:
        return chosen
    if kind == 1:
        return chosen[: draw(st.integers(1, len(chosen)))] + draw(st.sampled_from(["*", "?", "*s", "?e"]))
    if kind == 2:
        return "#" + chosen
    if kind == 3:
        return "@" + draw(st.sampled_from(HANDLES))
    if kind == 4:
        return '"' + " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3))) + '"'
    if kind == 5:
        return "{" + draw(st.sampled_from(["ICO", "Privacy", "GDPR", "Café", "The ICO", "#FOI", "@Jane", "Zoë"])) + "}"
    if kind == 6:
        at = draw(st.integers(1, len(chosen)))
        return chosen[:at] + "?" + chosen[at + 1 :] if at < len(chosen) else chosen
    if kind == 7:
        return '"the ICO"'
    return draw(st.sampled_from(["e-mail", "ico's", "gov.uk", "data-protection", "GDPR?", "x\u0345y"]))


FIELD_TERMS = (
    [f"author:{h}" for h in HANDLES]
    + [f"from:@{h}" for h in HANDLES]
    + [f"to:{h}" for h in HANDLES]
    + [f"mentions:{h}" for h in HANDLES]
    + [f"links:{d}" for d in DOMAINS]
    + [f"site:{d}" for d in DOMAINS]
    + ["links:ico.org.uk/about", "url:ico.org.uk/about", "url:status", "links:straße.de"]
    + ["lang:en", "lang:cy", "platform:x", "platform:bluesky", "is:reply", "is:repost", "is:quote"]
    + ["has:links", "has:mentions", "has:hashtags", "author:(ICOnews OR bob_99)", 'list:"tech journalists"', "list:MPs"]
)


@st.composite
def operands(draw, depth):
    choice = draw(st.integers(0, 9 if depth > 0 else 5))
    if choice <= 2:
        return draw(text_terms())
    if choice <= 4:
        return draw(st.sampled_from(FIELD_TERMS))
    if choice == 5:
        near = f"NEAR/{draw(st.integers(0, 4))}{draw(st.sampled_from(['', 'f']))}"
        return f"{draw(text_terms())} {near} {draw(text_terms())}"
    if choice == 6:
        words = draw(st.lists(st.sampled_from(WORDS), min_size=2, max_size=3))
        return '"' + " ".join(words) + f'"~{draw(st.integers(0, 3))}'
    if choice <= 8:
        return "(" + " OR ".join(draw(st.lists(operands(depth - 1), min_size=2, max_size=3))) + ")"
    first = draw(operands(depth - 1))
    connectors = st.sampled_from(["", "AND ", "NOT ", "-", "AND NOT "])
    rest = draw(st.lists(st.tuples(connectors, operands(depth - 1)), max_size=2))
    return "(" + " ".join([first] + [connector + item for connector, item in rest]) + ")"


_external_ids = itertools.count()


@st.composite
def posts(draw):
    separators = st.sampled_from([" ", " ", " ", "", "-", "\n", "_", "'"])

    def joined(most):
        pieces = draw(st.lists(st.sampled_from(TEXT_PIECES), max_size=most))
        return "".join(piece + draw(separators) for piece in pieces)

    return Post(
        platform=draw(st.sampled_from(["x", "bluesky", "rss"])),
        external_id=f"p{next(_external_ids)}",
        text=joined(12),
        title=joined(4),
        url=draw(st.sampled_from(["", "https://www.ico.org.uk/news/1", "https://x.com/ICOnews/status/1"])),
        author_handle=draw(st.sampled_from(HANDLES + ["someone", "@ICONEWS", "", " @Bob_99", "Zoe\u0308"])),
        lang=draw(st.sampled_from(["en", "cy", "", "EN"])),
        links=tuple(draw(st.lists(st.sampled_from(
            ["https://news.ico.org.uk/about/x", "http://gov.uk/", "example.com/a", "", "https://strasse.de/y"]
        ), max_size=2))),
        mentions=tuple(draw(st.lists(st.sampled_from(HANDLES + ["@Commissioner", "@@bob_99"]), max_size=2))),
        in_reply_to_handle=draw(st.sampled_from(["", "commissioner", "@ICOnews", " ", "Zoë"])),
        kind=draw(st.sampled_from(["post", "reply", "repost", "quote", "Reply"])),
    )


def _store(batch: list[Post]) -> list[int]:
    """Half through ingest's prepared INSERT, half through the ORM's save(): both must fill the prefilter text."""
    by_ingest = batch[::2]
    if by_ingest:
        page_store([(post, {}, set()) for post in by_ingest])
    for post in batch[1::2]:
        Mention.objects.create(
            platform=post.platform, external_id=post.external_id, text=post.text.replace("\x00", ""),
            title=post.title.replace("\x00", ""), url=post.url, author_handle=post.author_handle, lang=post.lang,
            links=list(post.links), mentions=list(post.mentions), in_reply_to_handle=post.in_reply_to_handle,
            kind=post.kind,
        )
    ids = [post.external_id for post in batch]
    return list(Mention.objects.filter(external_id__in=ids).values_list("id", flat=True))


def _exact_and_prefiltered(query_text: str, ids: list[int]) -> tuple[set[int], set[int]]:
    query = parse(query_text)
    exact = {
        mention.id
        for mention in Mention.objects.filter(id__in=ids)
        if query.matches(mention.as_post(), lists=WatchLists(LISTS_BY_PLATFORM.get(mention.platform, {})))
    }
    passed = set(
        Mention.objects.filter(id__in=ids).filter(prefilter_condition(query, LISTS_BY_PLATFORM)).values_list("id", flat=True)
    )
    return exact, passed


@pytest.mark.django_db
@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(st.one_of(operands(2), text_terms()), st.lists(posts(), min_size=1, max_size=6))
@example('"the ICO"', [Post(platform="x", external_id="e1", text="Complained to THE  ico today")])
@example("cafe", [Post(platform="x", external_id="e2", text="Le Café du coin")])
@example("{Café}", [Post(platform="x", external_id="e3", text="#Café")])
@example("journo*", [Post(platform="x", external_id="e4", text="#JournoRequest please")])
@example("@jane", [Post(platform="x", external_id="e5", text="hi", mentions=("@JANE",))])
@example("links:ico.org.uk", [Post(platform="x", external_id="e6", text="see www.ICO.org.uk/x")])
@example("ico", [Post(platform="x", external_id="e7", text="\u0345ICO\x00")])
def test_every_post_the_matcher_accepts_passes_the_sql_prefilter(query_text, batch):
    ids = _store(batch)
    exact, passed = _exact_and_prefiltered(query_text, ids)
    assert exact <= passed, f"{query_text!r} dropped {[Mention.objects.get(id=i).as_post() for i in exact - passed]}"


@pytest.mark.django_db
def test_the_prefilter_leaves_out_posts_without_the_querys_words():
    ids = _store([
        Post(platform="x", external_id="n1", text="Lovely weather for a walk"),
        Post(platform="x", external_id="n2", text="Privacy notice updated"),
        Post(platform="x", external_id="n3", text="Complained to the ICO"),
        Post(platform="x", external_id="n4", text="hi", in_reply_to_handle="Commissioner"),
    ])
    by_text = dict(Mention.objects.filter(id__in=ids).values_list("external_id", "id"))
    for query_text, expected in [
        ("privacy", {"n2"}),
        ('"the ICO"', {"n3"}),
        ("to:commissioner", {"n4"}),
        ("privacy OR weather", {"n1", "n2"}),
        ("privacy NOT weather", {"n2"}),
    ]:
        _, passed = _exact_and_prefiltered(query_text, ids)
        assert passed == {by_text[name] for name in expected}, query_text


@pytest.mark.django_db
def test_ingest_and_save_fill_the_prefilter_text_and_an_edit_clears_it():
    _store([Post(platform="x", external_id="f1", text="Café au lait", mentions=("Zoë",), author_handle="@Bob"),
            Post(platform="x", external_id="f2", text="ÉTÉ")])
    by_ingest, by_save = Mention.objects.get(external_id="f1"), Mention.objects.get(external_id="f2")
    assert by_ingest.prefilter_text.split("\n")[0] == "cafe au lait"
    assert "@zoe" in by_ingest.prefilter_text and "\nbob\n" in by_ingest.prefilter_text
    assert by_save.prefilter_text.startswith("ete")

    Mention.objects.filter(id=by_save.id).update(text="privacy")  # bypasses save(): the trigger clears it
    by_save.refresh_from_db()
    assert by_save.prefilter_text is None
    _, passed = _exact_and_prefiltered("privacy", [by_save.id, by_ingest.id])
    assert passed == {by_save.id}  # not computed: always a candidate

    by_save.save(update_fields=["text"])
    by_save.refresh_from_db()
    assert by_save.prefilter_text.startswith("privacy")


@pytest.mark.django_db
def test_the_trigram_index_serves_the_prefilter():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            pytest.skip("this PostgreSQL has no pg_trgm (the embedded server): the prefilter runs without its index")
        cursor.execute("SET LOCAL enable_seqscan = off")
    sql, params = Mention.objects.filter(prefilter_condition(parse('"the ICO"'))).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "mention_prefilter_trgm_idx" in plan and "mention_prefilter_missing_idx" in plan


@pytest.fixture
def signed_in(client, comms_officer):
    client.force_login(comms_officer)
    return client


def test_try_it_counts_accented_and_stop_word_matches_exactly(signed_in, communications, make_item):
    make_item(communications, text="Coffee at the Café Royal with THE ICO")
    make_item(communications, text="A cafe\u0301 visit")
    make_item(communications, text="Nothing here")
    body = signed_in.post(reverse("listening:saved_search_try"), {"query": 'cafe "the ICO"'}).content.decode()
    assert "<strong>1</strong> stored mention from the last 30 days matches." in body
    assert "At least" not in body
    body = signed_in.post(reverse("listening:saved_search_try"), {"query": "cafe"}).content.decode()
    assert "<strong>2</strong> stored mentions from the last 30 days match." in body


def test_the_result_reads_only_candidates(communications, make_item):
    for n in range(5):
        make_item(communications, text=f"weather report {n}")
    make_item(communications, text="privacy matters")
    result = stored_matches(query=parse("privacy"))
    assert (result.checked, result.matched, result.complete) == (1, 1, True)
    assert result.first[0][0].text == "privacy matters"


def test_it_reads_candidates_page_by_page_newest_first_and_counts_them_all(communications, make_item, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from listening import selectors

    monkeypatch.setattr(selectors, "_FIRST_PAGE", 2)
    now = timezone.now()
    for n in range(9):
        # Two mentions share each time, so the keyset must also order by id.
        make_item(communications, text=f"privacy post {n}", first_seen_at=now - timedelta(minutes=n // 2))
    make_item(communications, text="weather", first_seen_at=now)
    result = stored_matches(query=parse("privacy"), show=4)
    assert (result.checked, result.matched, result.complete) == (9, 9, True)
    assert [mention.text for mention, _ in result.first] == [f"privacy post {n}" for n in (1, 0, 3, 2)]


@pytest.mark.django_db
def test_a_page_the_database_cannot_read_within_the_budget_is_cancelled_and_the_count_is_a_lower_bound(
    communications, make_item, monkeypatch
):
    import time

    from django.db.models import BooleanField
    from django.db.models.expressions import RawSQL

    from listening import selectors

    make_item(communications, text="privacy matters")
    candidates = selectors.try_it_candidates

    def slow_candidates(**arguments):  # as a plan the planner misjudged would be
        return candidates(**arguments).filter(RawSQL("(SELECT true FROM pg_sleep(2))", [], output_field=BooleanField()))

    monkeypatch.setattr(selectors, "try_it_candidates", slow_candidates)
    started = time.monotonic()
    result = stored_matches(query=parse("privacy"), budget_seconds=0.2)
    assert time.monotonic() - started < 1.5
    assert (result.checked, result.matched, result.complete, result.stopped_after) == (0, 0, False, 0.2)
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"  # the page's timeout did not outlive it

    monkeypatch.setattr(selectors, "try_it_candidates", candidates)
    assert stored_matches(query=parse("privacy"), budget_seconds=5).matched == 1
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"
