"""Thin tasks: take ids, call a service, retry from the decorator's settings."""

from celery import shared_task

from triage.circulations import MailSendFailed, circulation_recipient_send, scheduled_mail_send

MAIL_RETRIES = 4


@shared_task(bind=True, name="triage.tasks.send_circulation_email", ignore_result=True, max_retries=MAIL_RETRIES)
def send_circulation_email(self, recipient_id: int) -> None:
    final = self.request.retries >= self.max_retries
    try:
        circulation_recipient_send(recipient_id=recipient_id, final_attempt=final)
    except MailSendFailed as failure:
        if not final:
            # 1, 2, 4, 8 minutes: long enough for a mail server to come back.
            raise self.retry(exc=failure, countdown=60 * 2**self.request.retries) from None


@shared_task(name="triage.tasks.send_scheduled_mail", ignore_result=True, expires=240)
def send_scheduled_mail() -> None:
    scheduled_mail_send()


@shared_task(name="triage.tasks.detect_spikes", ignore_result=True, expires=240)
def detect_spikes() -> None:
    from triage.spikes import spikes_detect

    spikes_detect()
