import pytest

from listening.ingest import page_ingest
from listening.models import Mention, MentionHit
from listening.posts import Post
from listening.sources.demo import DemoSource, load_sample
from triage.models import InboxItem


def _posts(n=40):
    source = DemoSource(page_size=n)
    return next(source.pages(query=None, cursor={}, max_pages=1)).posts


def test_it_stores_only_posts_that_match_a_saved_search(demo_searches):
    posts = _posts(60)
    result = page_ingest(platform="demo", posts=posts)
    assert 0 < result.matched < len(posts)
    assert Mention.objects.count() == result.new == result.matched
    assert MentionHit.objects.count() >= result.matched
    # One inbox item per (team, mention), however many of the team's searches hit it.
    pairs = {(h.saved_search.team_id, h.mention_id) for h in MentionHit.objects.select_related("saved_search")}
    assert InboxItem.objects.count() == len(pairs)


def test_it_adds_nothing_when_a_page_is_ingested_again(demo_searches):
    posts = _posts(60)
    page_ingest(platform="demo", posts=posts)
    counts = (Mention.objects.count(), MentionHit.objects.count(), InboxItem.objects.count())
    again = page_ingest(platform="demo", posts=posts)
    assert again.new == 0
    assert (Mention.objects.count(), MentionHit.objects.count(), InboxItem.objects.count()) == counts


def test_it_stores_a_post_with_a_nul_and_odd_raw_payload(demo_searches):
    post = Post(platform="demo", external_id="odd-1", text="Thanks @ICOnews \x00 for nothing",
                in_reply_to_handle=load_sample()["regulator_handle"], raw={"when": object()})
    assert page_ingest(platform="demo", posts=[post]).new == 1
    assert "\x00" not in Mention.objects.get(external_id="odd-1").text


def test_it_records_the_matched_spans_on_each_hit(demo_searches):
    post = Post(platform="demo", external_id="span-1", text="I complained to the ICO today")
    page_ingest(platform="demo", posts=[post])
    hit = MentionHit.objects.get(mention__external_id="span-1", saved_search__name="Says “the ICO”")
    (start, end), = hit.spans["text"]
    assert post.text[start:end].lower() in ("the ico", "the", "ico") and "ICO" in post.text[start:end + 4]


def test_it_rebuilds_the_matcher_when_a_saved_search_changes(demo_searches, communications):
    from listening.models import SavedSearch, SavedSearchPlatform

    post = Post(platform="demo", external_id="new-1", text="Kittens are lovely")
    assert page_ingest(platform="demo", posts=[post]).matched == 0
    search = SavedSearch.objects.create(team=communications, name="cats", query="kittens")
    SavedSearchPlatform.objects.create(saved_search=search, platform="demo")
    assert page_ingest(platform="demo", posts=[post]).matched == 1


def test_it_stores_a_raw_payload_with_nuls_and_nan(demo_searches):
    post = Post(platform="demo", external_id="raw-1", text="Complained to the ICO",
                raw={"text": "nul \x00 here", "score": float("nan"), "key\x00": [float("inf")]})
    assert page_ingest(platform="demo", posts=[post]).new == 1
    raw = Mention.objects.get(external_id="raw-1").raw
    assert raw["score"] is None and "\x00" not in raw["text"]


def test_it_skips_malformed_posts_and_says_why(demo_searches):
    good = Post(platform="demo", external_id="ok-1", text="Complained to the ICO")
    bad = [
        Post(platform="demo", external_id="", text="the ICO"),
        Post(platform="demo", external_id="x" * 300, text="the ICO"),
        Post(platform="demo", external_id="nul\x00id", text="the ICO"),
        Post(platform="myspace", external_id="m-1", text="the ICO"),
    ]
    result = page_ingest(platform="demo", posts=[bad[0], good, *bad[1:]])
    assert result.new == 1 and len(result.skipped) == 4
    assert list(Mention.objects.values_list("external_id", flat=True)) == ["ok-1"]


@pytest.mark.django_db
def test_ingest_sees_an_edited_watch_list_handle_and_an_edited_search_at_once(communications):
    from listening.models import SavedSearch, SavedSearchPlatform, WatchList, WatchListMember

    journalists = WatchList.objects.create(name="tech journalists")
    member = WatchListMember.objects.create(watch_list=journalists, platform="demo", handle="old_handle")
    search = SavedSearch.objects.create(team=communications, name="Journalists", query='list:"tech journalists" FOI')
    SavedSearchPlatform.objects.create(saved_search=search, platform="demo")
    post = Post(platform="demo", external_id="w-1", text="FOI question", author_handle="new_handle")
    assert page_ingest(platform="demo", posts=[post]).matched == 0

    # Same number of members, same ids: only the handle changed.
    member.handle = "new_handle"
    member.save()
    assert page_ingest(platform="demo", posts=[post]).matched == 1

    search.query = 'list:"tech journalists" GDPR'
    search.save()
    assert page_ingest(platform="demo", posts=[Post(platform="demo", external_id="w-2", text="FOI again",
                                                     author_handle="new_handle")]).matched == 0


def test_it_stores_the_prefilter_text_of_the_mention_as_stored(demo_searches):
    # One post stored as matched, and one that storing changes (a NUL, an overlong
    # handle, an empty kind): each row's prefilter text describes the stored mention.
    plain = Post(platform="demo", external_id="pf-1", text="Complained to the ICO", title="Café Straße",
                 author_handle="@Bob", lang="EN", links=("https://ico.org.uk/a",), mentions=("@ICOnews",))
    changed = Post(platform="demo", external_id="pf-2", text="Complained to the ICO \x00 today", title="T\x00itle",
                   author_handle="H" * 250, in_reply_to_handle="Zoe\x00", kind="", links=("https://x.com/\x00",))
    assert page_ingest(platform="demo", posts=[plain, changed]).new == 2
    for mention in Mention.objects.filter(external_id__in=["pf-1", "pf-2"]):
        assert mention.prefilter_text == mention.prefilter_text_computed()
    stored = Mention.objects.get(external_id="pf-2")
    assert stored.kind == "post" and len(stored.author_handle) == 200 and "\x00" not in stored.prefilter_text


def test_the_storing_statement_is_short_enough_for_psycopg_to_cache_its_parse():
    from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH

    from listening.ingest import _STORE_PAGE_SQL

    assert "--" not in _STORE_PAGE_SQL
    assert len(_STORE_PAGE_SQL.encode()) <= MAX_CACHED_STATEMENT_LENGTH


def test_the_statements_run_once_a_page_are_prepared_and_django_s_are_not(demo_searches):
    from django.db import connection

    posts = _posts(20)
    page_ingest(platform="demo", posts=posts)
    page_ingest(platform="demo", posts=posts)
    Mention.objects.count()
    Mention.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any(statement.startswith("WITH posts AS") for statement in prepared)
    assert any("listening_matching_generation" in statement for statement in prepared)
    assert not any("COUNT(*)" in statement for statement in prepared)


@pytest.mark.django_db(transaction=True)
def test_a_page_joining_no_group_does_not_scan_the_inbox_whatever_plan_was_cached(demo_searches):
    """The storing statement is prepared once per connection; a generic plan made while the
    inbox was empty must not scan the whole inbox for every later page."""
    from django.db import connection, transaction

    def grow_the_inbox(first, last):
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO listening_mention (platform, external_id, url, author_handle, author_name, text, title,"
                " lang, links, mentions, in_reply_to_handle, kind, first_seen_at, raw)"
                " SELECT 'demo', 'bulk' || n, '', 'a', '', 'old', '', '', '{}', '{}', '', 'post', now(), '{}'"
                " FROM generate_series(%s, %s) AS n",
                [first, last],
            )
            cursor.execute(
                "INSERT INTO triage_inboxitem (team_id, mention_id, status, created_at, group_size)"
                " SELECT %s, id, 'new', now(), 1 FROM listening_mention"
                " WHERE external_id LIKE 'bulk%%' AND substr(external_id, 5)::int BETWEEN %s AND %s",
                [demo_searches[0].saved_search.team_id, first, last],
            )

    connection.close()  # a fresh backend: the statement is prepared again, below
    try:
        grow_the_inbox(1, 300)  # a small inbox, never analyzed, as on a new installation
        with connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_generic_plan")  # plans made now, on the small tables
        page_ingest(platform="demo", posts=_posts(20))
        grow_the_inbox(301, 20_000)  # then the inbox grows, with no ANALYZE since
        source = DemoSource(page_size=20)
        later = list(source.pages(query=None, cursor={"round": 0, "offset": 20}, max_pages=1))[0].posts
        with transaction.atomic():
            assert page_ingest(platform="demo", posts=later).inbox_items > 0
            with connection.cursor() as cursor:
                cursor.execute("SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'triage_inboxitem'")
                assert cursor.fetchone()[0] == 0
    finally:
        connection.close()  # no later test inherits the plan setting
