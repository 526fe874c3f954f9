import uuid

from celery import shared_task

from listening import services


@shared_task(name="listening.tasks.dispatch_due_harvests", ignore_result=True)
def dispatch_due_harvests() -> int:
    claims = services.harvest_dispatch_due()
    for state_id, token in claims:
        harvest.delay(state_id, str(token))
    return len(claims)


@shared_task(name="listening.tasks.harvest", ignore_result=True)
def harvest(state_id: int, token: str) -> None:
    # No task-level retry: the claim token is spent on the first attempt. A failed run
    # records its error and the pair is harvested again at its next time; sources
    # retry 5xx and timeouts themselves while they hold the claim.
    services.harvest_run(state_id=state_id, token=uuid.UUID(token))
