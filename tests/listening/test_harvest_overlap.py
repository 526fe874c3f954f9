"""A harvest fetches its next page while it stores this one, and matches it while PostgreSQL writes."""

import time
from concurrent.futures import Future
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from django.db import connection, connections
from psycopg import pq
from django.utils import timezone as django_timezone

from listening import harvest, ingest, services
from listening.ingest import match_if_arrived, page_match
from listening.matching import matching_state
from listening.models import HarvestRun, SavedSearchPlatform
from listening.posts import Post
from listening.sources.demo import DemoSource
from listening.spend import reads_record, spend_block_reason, spend_cap_set


class WatchesTheStore(DemoSource):
    """Page 2 is asked for while page 1 is being stored, and arrives only once page 1 is."""

    def __init__(self, page_size, run_pk):
        super().__init__(page_size=page_size)
        self.run_pk = run_pk
        self.asked_before_stored = None
        self.stored_while_waiting = False

    def _stored(self) -> bool:
        return HarvestRun.objects.filter(pk=self.run_pk(), pages__gte=1).exists()

    def pages(self, **kwargs):
        for number, page in enumerate(super().pages(**kwargs), start=1):
            if number == 2:
                self.asked_before_stored = not self._stored()
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and not self._stored():
                    time.sleep(0.02)
                self.stored_while_waiting = self._stored()
                connections.close_all()
            yield page


@pytest.mark.django_db(transaction=True)
def test_a_page_is_stored_while_the_next_one_is_still_being_fetched(demo_searches, monkeypatch):
    state = demo_searches[0]
    SavedSearchPlatform.objects.filter(pk=state.pk).update(next_run_at=django_timezone.now())
    token = services.harvest_claim(state_id=state.pk)
    slow_commit = ingest.page_commit

    def page_commit(page, **kwargs):
        time.sleep(0.3)  # so the next page is surely asked for before this one commits
        return slow_commit(page, **kwargs)

    monkeypatch.setattr(harvest, "page_commit", page_commit)
    source = WatchesTheStore(page_size=20, run_pk=lambda: HarvestRun.objects.order_by("-pk").values_list("pk", flat=True)[0])
    run = services.harvest_run(state_id=state.pk, token=token, max_pages=3, source=source)
    assert run.status == "ok" and run.pages == 3 and run.fetched == 60
    assert source.asked_before_stored is True
    assert source.stored_while_waiting is True  # page 1 never waited for page 2 to arrive


def _page(*texts, prefix="p"):
    return [Post(platform="demo", external_id=f"{prefix}{n}", text=text) for n, text in enumerate(texts)]


def test_the_next_page_is_matched_only_once_it_has_arrived(demo_searches):
    state = matching_state("demo")
    posts = _page("the ICO fined a council", "nothing to see")
    waiting, into = Future(), []
    match_if_arrived(into, state, waiting)
    assert into == []  # not arrived: left for the harvest to match later

    failed = Future()
    failed.set_exception(RuntimeError("the platform hung up"))
    match_if_arrived(into, state, failed)
    assert into == []  # the harvest raises the fetch's own error

    arrived = Future()
    arrived.set_result(type("Page", (), {"posts": posts})())
    match_if_arrived(into, state, arrived)
    assert len(into) == 1 and into[0] == page_match(state, posts)


def test_a_matching_error_on_the_next_page_is_kept_for_after_this_one_is_stored(demo_searches):
    into, arrived = [], Future()
    arrived.set_result(type("Page", (), {"posts": None})())  # not a list of posts: matching it fails
    match_if_arrived(into, matching_state("demo"), arrived)
    assert len(into) == 1 and isinstance(into[0], TypeError)


def test_meanwhile_runs_while_the_page_is_written(demo_searches):
    """The write's statements are sent before `meanwhile` runs and read after it."""
    state = matching_state("demo")
    matched = page_match(state, _page("the ICO fined a council", prefix="w"))
    seen = {}

    def meanwhile():
        seen["in_pipeline"] = pq.PipelineStatus(connection.connection.pgconn.pipeline_status).name

    result = ingest.page_commit(matched, meanwhile=meanwhile)
    assert seen == {"in_pipeline": "ON"}
    assert result.new == 1


def test_reads_fetched_but_not_yet_stored_count_against_the_cap(communications, admin_user):
    now = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
    spend_cap_set(platform="x", monthly_cap=Decimal("0.02"), actor=admin_user)  # four reads at $0.005
    reads_record(platform="x", posts=[Post(platform="x", external_id=f"r{n}", text="ICO") for n in range(2)], now=now)
    assert spend_block_reason("x", now=now) == ""
    assert spend_block_reason("x", now=now, pending_reads=1) == ""
    assert spend_block_reason("x", now=now, pending_reads=2).startswith("monthly budget reached")


def test_ingest_keeps_no_index_another_index_already_leads_with(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexdef FROM pg_indexes"
            " WHERE tablename IN ('listening_mentionhit', 'triage_inboxitem')"
        )
        definitions = {(table, d.split(" USING btree ")[-1]) for table, d in cursor.fetchall() if " USING btree " in d}
    for redundant in [
        ("listening_mentionhit", "(mention_id)"),
        ("listening_mentionhit", "(saved_search_id)"),
        ("triage_inboxitem", "(team_id)"),
        ("triage_inboxitem", "(assignee_id)"),
        ("triage_inboxitem", "(claimed_by_id)"),
    ]:
        assert redundant not in definitions
    assert ("triage_inboxitem", "(assignee_id) WHERE (assignee_id IS NOT NULL)") in definitions
