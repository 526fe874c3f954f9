"""Harvest runs: claiming, cursors, and surviving an interruption between pages."""


import pytest
from django.utils import timezone

from listening import services
from listening.models import HarvestRun, Mention, SavedSearchPlatform
from listening.sources.demo import DemoSource, load_sample
from tests.support import dispatch_concurrently


class WorkerKilled(BaseException):
    """Stands for the process dying: not an Exception, so nothing in the run catches it."""


class DiesBeforePage(DemoSource):
    def __init__(self, die_before_page, page_size):
        super().__init__(page_size=page_size)
        self.die_before_page = die_before_page

    def pages(self, **kwargs):
        for number, page in enumerate(super().pages(**kwargs), start=1):
            if number == self.die_before_page:
                raise WorkerKilled()
            yield page


def _claimed(state):
    state.refresh_from_db()
    SavedSearchPlatform.objects.filter(pk=state.pk).update(next_run_at=timezone.now())
    return services.harvest_claim(state_id=state.pk)


def _matching_ids(pages, page_size):
    """The external ids a clean run over the same stream stores (every post the searches match)."""
    from listening.matching import compiled_searches, watch_lists_for

    compiled, lists = compiled_searches("demo"), watch_lists_for("demo")
    posts = [p for page in DemoSource(page_size=page_size).pages(query=None, cursor={}, max_pages=pages) for p in page.posts]
    return {p.external_id for p in posts if compiled.matcher.match(p, lists=lists)}


def test_a_rerun_after_dying_between_pages_stores_every_post_exactly_once(demo_searches):
    state = next(s for s in demo_searches if s.saved_search.name == "Replies to the Commissioner")
    with pytest.raises(WorkerKilled):
        services.harvest_run(state_id=state.pk, token=_claimed(state), max_pages=3, source=DiesBeforePage(3, 50))
    state.refresh_from_db()
    assert state.cursor == {"round": 0, "offset": 100}  # two pages stored, cursor with them
    stored_after_crash = Mention.objects.count()
    assert stored_after_crash > 0

    # The claim lease lapses; the next run starts from the stored cursor.
    SavedSearchPlatform.objects.filter(pk=state.pk).update(claim_token=None)
    run = services.harvest_run(state_id=state.pk, token=_claimed(state), max_pages=2, source=DemoSource(page_size=50))
    assert run.pages == 2 and run.fetched == 100
    ids = list(Mention.objects.values_list("external_id", flat=True))
    assert len(ids) == len(set(ids))
    assert set(ids) == _matching_ids(pages=4, page_size=50)


def test_a_run_moves_the_cursor_and_schedules_the_next(demo_searches):
    state = demo_searches[0]
    run = services.harvest_run(state_id=state.pk, token=_claimed(state), max_pages=2, source=DemoSource(page_size=10))
    state.refresh_from_db()
    assert (run.pages, run.fetched, run.status) == (2, 20, "ok")
    assert state.cursor == {"round": 0, "offset": 20}
    assert state.claim_token is None and state.last_status == "ok"
    assert state.next_run_at > timezone.now()


def test_the_stream_starts_a_new_round_with_fresh_ids():
    total = len(load_sample()["posts"])
    page = next(DemoSource(page_size=3).pages(query=None, cursor={"round": 4, "offset": total - 1}, max_pages=1))
    assert [p.external_id for p in page.posts] == [f"demo-r4-{total - 1}", "demo-r5-0", "demo-r5-1"]
    assert page.cursor == {"round": 5, "offset": 2}


def test_a_redelivered_harvest_task_does_nothing(demo_searches):
    state = demo_searches[0]
    token = _claimed(state)
    assert services.harvest_run(state_id=state.pk, token=token, max_pages=1) is not None
    assert services.harvest_run(state_id=state.pk, token=token, max_pages=1) is None
    assert HarvestRun.objects.count() == 1


def test_a_harvest_for_a_deleted_search_does_nothing(demo_searches):
    state = demo_searches[0]
    token = _claimed(state)
    state.saved_search.delete()
    assert services.harvest_run(state_id=state.pk, token=token) is None


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_claim_each_pair_once(demo_searches):
    results = dispatch_concurrently(2)
    claimed = [claim.pk for claims in results for claim in claims]
    assert sorted(claimed) == sorted(s.pk for s in demo_searches)


def test_a_disabled_search_is_not_dispatched(demo_searches):
    demo_searches[0].saved_search.__class__.objects.filter(pk=demo_searches[0].saved_search_id).update(enabled=False)
    claimed = {claim.pk for claim in services.harvest_dispatch_due()}
    assert demo_searches[0].pk not in claimed and len(claimed) == len(demo_searches) - 1


def test_a_platform_without_a_source_finishes_its_run_with_a_clear_error(demo_searches):
    state = demo_searches[0]
    # YouTube's source comes with the second group of platforms.
    youtube = SavedSearchPlatform.objects.create(saved_search=state.saved_search, platform="youtube", next_run_at=timezone.now())
    run = services.harvest_run(state_id=youtube.pk, token=services.harvest_claim(state_id=youtube.pk))
    youtube.refresh_from_db()
    assert run.status == "error" and run.finished_at is not None
    assert "No source is installed" in youtube.last_error and youtube.last_status == "error"
    assert youtube.claim_token is None and youtube.next_run_at > timezone.now()


def test_a_search_deleted_during_its_run_ends_the_run_quietly(demo_searches):
    state = demo_searches[0]

    class DeletesItsSearch(DemoSource):
        def pages(self, **kwargs):
            for page in super().pages(**kwargs):
                state.saved_search.delete()
                yield page

    assert services.harvest_run(state_id=state.pk, token=_claimed(state), source=DeletesItsSearch(page_size=5)) is None


def test_a_late_task_gets_a_fresh_lease(demo_searches):
    state = demo_searches[0]
    token = _claimed(state)
    SavedSearchPlatform.objects.filter(pk=state.pk).update(next_run_at=timezone.now())  # the lease ran out in the queue

    seen = {}

    class Watches(DemoSource):
        def pages(self, **kwargs):
            state.refresh_from_db()
            seen["lease_ahead"] = state.next_run_at > timezone.now()
            seen["claimed_again"] = state.pk in {claim.pk for claim in services.harvest_dispatch_due()}
            yield from super().pages(**kwargs)

    assert services.harvest_run(state_id=state.pk, token=token, max_pages=1, source=Watches(page_size=5)).status == "ok"
    assert seen == {"lease_ahead": True, "claimed_again": False}
