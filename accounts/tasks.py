from celery import shared_task

from accounts.services import access_grants_expire


@shared_task(name="accounts.tasks.expire_access_grants")
def expire_access_grants() -> int:
    """Beat: revoke the grants whose expiry date has come (access.active() already ignores them)."""
    return access_grants_expire()


@shared_task(name="accounts.tasks.clear_expired_sessions")
def clear_expired_sessions() -> int:
    """Beat: delete session rows past their expiry, so signed-out sessions leave no data behind."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@shared_task(bind=True, name="accounts.tasks.send_invitation_email", ignore_result=True, max_retries=4)
def send_invitation_email(self, user_id: int) -> None:
    from accounts.invitations import invitation_email_send

    try:
        invitation_email_send(user_id=user_id)
    except OSError as failure:  # the mail server is down or refused: 1, 2, 4, 8 minutes
        raise self.retry(exc=failure, countdown=60 * 2**self.request.retries) from None
