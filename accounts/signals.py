from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from accounts import middleware
from accounts.services import user_sessions_end


@receiver(user_logged_in)
def _start_session_clocks(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        middleware.session_stamps_reset(request.session)


@receiver(pre_save, sender=get_user_model())
def _note_deactivation(sender, instance, update_fields=None, raw=False, **kwargs):
    # Read the stored flag, not the instance's: the instance may be stale or built by a form.
    instance._earshot_deactivating = False
    if raw or instance.pk is None or instance.is_active:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    was_active = sender.objects.filter(pk=instance.pk).values_list("is_active", flat=True).first()
    instance._earshot_deactivating = bool(was_active)


@receiver(post_save, sender=get_user_model())
def _end_sessions_on_deactivation(sender, instance, created, raw=False, **kwargs):
    """Deactivating an account signs it out everywhere, whichever code path saved it.

    A queryset .update() sends no signal; SessionLimitsMiddleware refuses an inactive
    user's next request all the same.
    """
    if getattr(instance, "_earshot_deactivating", False) and not created and not raw:
        instance._earshot_deactivating = False
        user_sessions_end(user=instance, reason="deactivated")
