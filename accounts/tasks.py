from celery import shared_task

from accounts.services import access_grants_expire


@shared_task(name="accounts.tasks.expire_access_grants")
def expire_access_grants() -> int:
    """Beat: revoke the grants whose expiry date has come (access.active() already ignores them)."""
    return access_grants_expire()
