from celery import shared_task

from governance import retention


@shared_task(name="governance.tasks.apply_retention", ignore_result=True, soft_time_limit=2 * 60 * 60)
def apply_retention() -> None:
    retention.retention_apply(triggered_by="beat")
