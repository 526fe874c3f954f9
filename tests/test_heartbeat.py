"""The dispatcher tick and worker heartbeat (config/heartbeat.py): recorded by a real worker,
read safely when Redis is down, and shown as banners on the harvest health page."""

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from celery import current_app

from config import heartbeat
from config.celery import HEARTBEAT_TASK
from listening.tasks import dispatch_due_harvests
from tests.support import start_celery_worker, wait_for

pytestmark = pytest.mark.timeout(120)


def _seconds_ago(key, seconds):
    heartbeat.redis_client().set(key, repr(time.time() - seconds))


def test_it_records_and_reads_back_both_timestamps_with_a_ttl():
    assert heartbeat.last_dispatcher_tick() is None and heartbeat.last_worker_heartbeat() is None
    before = datetime.now(UTC)
    heartbeat.record_dispatcher_tick()
    heartbeat.record_worker_heartbeat()
    after = datetime.now(UTC)
    assert before <= heartbeat.last_dispatcher_tick() <= after
    assert before <= heartbeat.last_worker_heartbeat() <= after
    for key in (heartbeat.DISPATCHER_KEY, heartbeat.WORKER_KEY):
        assert 0 < heartbeat.redis_client().ttl(key) <= heartbeat.KEY_TTL_SECONDS


def test_the_dispatcher_is_stale_after_three_intervals_without_a_tick(settings):
    settings.EARSHOT_DISPATCH_EVERY_SECONDS = 60
    heartbeat.record_dispatcher_tick()
    tick = heartbeat.last_dispatcher_tick()
    assert heartbeat.dispatcher_stale(now=tick + timedelta(seconds=179)) is False
    assert heartbeat.dispatcher_stale(now=tick + timedelta(seconds=181)) is True
    settings.EARSHOT_DISPATCH_EVERY_SECONDS = 120
    assert heartbeat.dispatcher_stale(now=tick + timedelta(seconds=181)) is False


def test_a_missing_tick_is_stale_only_once_the_process_outlived_the_threshold(monkeypatch):
    started = datetime.now(UTC)
    monkeypatch.setattr(heartbeat, "PROCESS_STARTED", started)
    assert heartbeat.dispatcher_stale(now=started + timedelta(seconds=179)) is False
    assert heartbeat.dispatcher_stale(now=started + timedelta(seconds=181)) is True


def test_nothing_raises_when_redis_is_down(settings, closed_port, caplog):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port}/0"
    heartbeat.record_dispatcher_tick()
    heartbeat.record_worker_heartbeat()
    assert heartbeat.last_dispatcher_tick() is None
    assert heartbeat.last_worker_heartbeat() is None
    assert isinstance(heartbeat.dispatcher_stale(), bool)
    assert "could not record earshot:heartbeat:dispatcher" in caplog.text
    assert "could not read earshot:heartbeat:worker" in caplog.text


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_records_the_tick_and_the_heartbeat(tmp_path):
    queue = f"earshot-test-{uuid.uuid4().hex[:8]}"
    process = start_celery_worker(queue, tmp_path / "worker.log")
    try:
        # A worker that comes up dispatches at once and says it is consuming.
        wait_for(heartbeat.last_dispatcher_tick, timeout=60, what="the tick from the worker's first dispatch")
        wait_for(heartbeat.last_worker_heartbeat, timeout=60, what="the worker's first heartbeat")

        # Each is recorded by its own task, and only by running it.
        heartbeat.redis_client().delete(heartbeat.DISPATCHER_KEY, heartbeat.WORKER_KEY)
        dispatch_due_harvests.apply_async(queue=queue)
        wait_for(heartbeat.last_dispatcher_tick, timeout=60, what="a tick from the dispatcher task")
        assert heartbeat.last_worker_heartbeat() is None

        current_app.send_task(HEARTBEAT_TASK, queue=queue)
        wait_for(heartbeat.last_worker_heartbeat, timeout=60, what="a heartbeat from the heartbeat task")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except Exception:
            process.kill()
        print((tmp_path / "worker.log").read_text(errors="replace")[-4000:])


@pytest.mark.django_db
def test_the_harvest_page_shows_no_banner_while_all_is_well(client, comms_officer):
    heartbeat.record_dispatcher_tick()
    heartbeat.record_worker_heartbeat()
    client.force_login(comms_officer)
    page = client.get("/harvests/").content.decode()
    assert 'id="dispatcher-stale"' not in page and 'id="worker-stale"' not in page


@pytest.mark.django_db
def test_the_harvest_page_warns_when_the_dispatcher_missed_three_ticks(client, comms_officer, settings):
    settings.EARSHOT_DISPATCH_EVERY_SECONDS = 60
    _seconds_ago(heartbeat.DISPATCHER_KEY, 181)
    heartbeat.record_worker_heartbeat()
    client.force_login(comms_officer)
    page = client.get("/harvests/").content.decode()
    assert 'id="dispatcher-stale"' in page and "Harvesting has stopped" in page
    assert "runs every 60 seconds" in page
    assert 'id="worker-stale"' not in page


@pytest.mark.django_db
def test_the_harvest_page_warns_when_no_worker_heartbeat_is_recent(client, comms_officer):
    heartbeat.record_dispatcher_tick()
    _seconds_ago(heartbeat.WORKER_KEY, 121)
    client.force_login(comms_officer)
    page = client.get("/harvests/").content.decode()
    assert 'id="worker-stale"' in page and "No worker is taking tasks off the queue" in page
    assert 'id="dispatcher-stale"' not in page


@pytest.mark.django_db
def test_the_harvest_page_still_answers_with_both_banners_when_redis_is_down(
    client, comms_officer, settings, closed_port, monkeypatch
):
    monkeypatch.setattr(heartbeat, "PROCESS_STARTED", datetime.now(UTC) - timedelta(hours=1))
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port}/0"
    client.force_login(comms_officer)
    response = client.get("/harvests/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="dispatcher-stale"' in page and 'id="worker-stale"' in page
    assert "never recorded" in page
