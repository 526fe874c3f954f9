import uuid

from celery import shared_task
from django.conf import settings

from listening import services


@shared_task(name="listening.tasks.dispatch_due_harvests", ignore_result=True)
def dispatch_due_harvests() -> int:
    claims = services.harvest_dispatch_due()
    for claim in claims:
        harvest.delay(claim.pk, str(claim.token), claim.kind)
    return len(claims)


@shared_task(
    name="listening.tasks.harvest",
    ignore_result=True,
    # The run stops itself at the soft limit and records "stopped: took too long";
    # the hard limit kills a run that cannot stop (its lease then lapses).
    soft_time_limit=settings.EARSHOT_HARVEST_SOFT_TIME_LIMIT,
    time_limit=settings.EARSHOT_HARVEST_TIME_LIMIT,
)
def harvest(state_id: int, token: str, kind: str = "search") -> None:
    # No task-level retry: the claim token is spent on the first attempt. A failed run
    # records its error and is harvested again at its next time; sources retry 5xx
    # and timeouts themselves while they hold the claim. `state_id` is a channel id
    # when `kind` is "channel".
    services.harvest_kind_run(kind=kind, pk=state_id, token=uuid.UUID(token))
