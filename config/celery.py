import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("earshot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def setup_periodic_tasks(sender, **kwargs):
    from django.conf import settings

    # The dispatcher claims due (saved search, platform) pairs; see listening.services.
    sender.add_periodic_task(
        float(settings.EARSHOT_DISPATCH_EVERY_SECONDS),
        sender.signature("listening.tasks.dispatch_due_harvests", expires=55),
        name="dispatch due harvests",
    )


@worker_ready.connect
def dispatch_on_start(sender, **kwargs):
    # Don't wait a whole beat period after a restart: harvest what is due now.
    sender.app.send_task("listening.tasks.dispatch_due_harvests")
