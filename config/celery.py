import os

from celery import Celery
from celery.signals import task_success, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("earshot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

DISPATCH_TASK = "listening.tasks.dispatch_due_harvests"
HEARTBEAT_TASK = "earshot.heartbeat"


@app.on_after_finalize.connect
def setup_periodic_tasks(sender, **kwargs):
    from django.conf import settings

    # The dispatcher claims due (saved search, platform) pairs; see listening.services.
    sender.add_periodic_task(
        float(settings.EARSHOT_DISPATCH_EVERY_SECONDS),
        sender.signature(DISPATCH_TASK, expires=55),
        name="dispatch due harvests",
    )
    # A heartbeat that only a worker taking tasks off the queue can record. It expires
    # after one period so a worker coming back after an outage runs one, not a backlog.
    every = float(settings.EARSHOT_HEALTH_WORKER_HEARTBEAT_SECONDS)
    sender.add_periodic_task(every, sender.signature(HEARTBEAT_TASK, expires=every), name="worker heartbeat")


@app.task(name=HEARTBEAT_TASK, ignore_result=True)
def heartbeat() -> None:
    from config.heartbeat import record_worker_heartbeat

    record_worker_heartbeat()


@task_success.connect
def record_dispatcher_tick(sender=None, **kwargs):
    # Only a dispatcher run that finished counts: one failing on every tick (say, the
    # database is down) must go stale.
    if getattr(sender, "name", None) == DISPATCH_TASK:
        from config.heartbeat import record_dispatcher_tick

        record_dispatcher_tick()


@worker_ready.connect
def dispatch_on_start(sender, **kwargs):
    # Don't wait a whole beat period after a restart: harvest what is due now, and say
    # this worker is consuming.
    sender.app.send_task(DISPATCH_TASK)
    sender.app.send_task(HEARTBEAT_TASK)
