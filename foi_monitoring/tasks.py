from celery import shared_task

from foi_monitoring import purge, services


@shared_task(name="foi_monitoring.tasks.scan_monitoring_hits", ignore_result=True)
def scan_monitoring_hits() -> int:
    return services.monitoring_hits_scan()


@shared_task(name="foi_monitoring.tasks.run_purges", ignore_result=True, soft_time_limit=30 * 60)
def run_purges() -> None:
    purge.monitoring_purge(triggered_by="beat")
