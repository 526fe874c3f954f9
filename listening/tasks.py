import uuid

from celery import shared_task

from listening import services


@shared_task(name="listening.tasks.dispatch_due_harvests", ignore_result=True)
def dispatch_due_harvests() -> int:
    claims = services.harvest_dispatch_due()
    for state_id, token in claims:
        harvest.delay(state_id, str(token))
    return len(claims)


@shared_task(
    name="listening.tasks.harvest",
    ignore_result=True,
    autoretry_for=(ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
)
def harvest(state_id: int, token: str) -> None:
    # A pair deleted since dispatch, or a redelivered task, finds no claim and does nothing.
    services.harvest_run(state_id=state_id, token=uuid.UUID(token))
