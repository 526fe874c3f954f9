"""A harvest process killed with SIGKILL between two pages; the rerun stores every post once."""

import signal
import subprocess
import sys

import pytest
from django.utils import timezone

from listening import services
from listening.matching import compiled_searches, watch_lists_for
from listening.models import HarvestRun, Mention, SavedSearchPlatform
from listening.sources.demo import DemoSource
from tests.support import ROOT, process_env, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_killed_harvest_resumes_from_its_cursor_and_stores_each_post_once(demo_searches, tmp_path):
    state = next(s for s in demo_searches if s.saved_search.name == "Says “the ICO”")
    token = services.harvest_claim(state_id=state.pk)
    log = open(tmp_path / "harvest.log", "wb")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "tests/listening/slow_harvest.py"), str(state.pk), str(token), "3", "60"],
        cwd=ROOT, env=process_env(), stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: HarvestRun.objects.filter(pages=1).exists(), timeout=60, what="the first page to be stored")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    state.refresh_from_db()
    assert state.cursor == {"round": 0, "offset": 60}  # the stored page, and its cursor with it
    run = HarvestRun.objects.get()
    assert run.finished_at is None  # it died: nothing recorded its end
    stored_by_the_dead_run = set(Mention.objects.values_list("external_id", flat=True))
    assert stored_by_the_dead_run

    # The lease runs out; the dispatcher claims the pair again and the rerun goes on from the cursor.
    SavedSearchPlatform.objects.filter(pk=state.pk).update(next_run_at=timezone.now())
    rerun = services.harvest_run(
        state_id=state.pk, token=services.harvest_claim(state_id=state.pk), max_pages=2, source=DemoSource(page_size=60)
    )
    assert rerun.status == "ok" and rerun.fetched == 120

    ids = list(Mention.objects.values_list("external_id", flat=True))
    assert len(ids) == len(set(ids))
    compiled, lists = compiled_searches("demo"), watch_lists_for("demo")
    stream = [p for page in DemoSource(page_size=60).pages(query=None, cursor={}, max_pages=3) for p in page.posts]
    assert set(ids) == {p.external_id for p in stream if compiled.matcher.match(p, lists=lists)}
    assert stored_by_the_dead_run < set(ids)
