from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from governance.services import audit_event_record, client_ip


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit_event_record(action="login", actor=user, obj=user, ip=client_ip(request) if request else None)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_event_record(action="logout", actor=user, obj=user, ip=client_ip(request) if request else None)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    audit_event_record(
        action="login_failed",
        actor_label=str(credentials.get("username", ""))[:150] or "unknown",
        ip=client_ip(request) if request else None,
    )
