"""A real Celery worker, on Redis, harvesting the demo source into the test database."""

import uuid

import pytest
from django.utils import timezone

from listening.models import HarvestRun, Mention, MentionHit, SavedSearchPlatform
from listening.tasks import dispatch_due_harvests
from tests.support import start_celery_worker, wait_for
from triage.models import InboxItem

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(tmp_path):
    queue = f"earshot-test-{uuid.uuid4().hex[:8]}"
    process = start_celery_worker(queue, tmp_path / "worker.log")
    yield queue
    process.terminate()
    try:
        process.wait(timeout=20)
    except Exception:
        process.kill()
    print((tmp_path / "worker.log").read_text(errors="replace")[-4000:])


def _dispatch_and_wait(queue, states, runs_before):
    SavedSearchPlatform.objects.filter(pk__in=[s.pk for s in states]).update(next_run_at=timezone.now())
    dispatch_due_harvests.apply_async(queue=queue)
    return wait_for(
        lambda: HarvestRun.objects.filter(finished_at__isnull=False).count() >= runs_before + len(states),
        timeout=90,
        what="the worker to finish every harvest",
    )


def test_a_worker_harvests_the_demo_searches_and_a_rerun_adds_nothing(worker, demo_searches):
    _dispatch_and_wait(worker, demo_searches, 0)
    counts = (Mention.objects.count(), MentionHit.objects.count(), InboxItem.objects.count())
    assert counts[0] > 0 and counts[2] > 0
    assert InboxItem.objects.filter(team__slug="communications").exists()
    assert set(HarvestRun.objects.values_list("status", flat=True)) == {"ok"}

    # Run the same harvests again from the start of the stream: same posts, same ids.
    SavedSearchPlatform.objects.update(cursor={})
    _dispatch_and_wait(worker, demo_searches, len(demo_searches))
    assert (Mention.objects.count(), MentionHit.objects.count(), InboxItem.objects.count()) == counts
    latest = HarvestRun.objects.order_by("-started_at")[: len(demo_searches)]
    assert all(run.new == 0 and run.fetched > 0 for run in latest)
