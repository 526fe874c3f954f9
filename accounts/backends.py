from django.contrib.auth.backends import ModelBackend

from accounts.access import access_for

# Apps whose models an admin grant may manage through Django admin.
ADMIN_APPS = {"accounts", "listening", "triage", "foi_monitoring", "governance"}


class AccessGrantBackend(ModelBackend):
    """Model permissions come from an active admin grant, not from is_staff or is_superuser."""

    def has_perm(self, user_obj, perm, obj=None):
        if not user_obj.is_active:
            return False
        return perm.split(".", 1)[0] in ADMIN_APPS and access_for(user_obj).is_admin

    def has_module_perms(self, user_obj, app_label):
        return user_obj.is_active and app_label in ADMIN_APPS and access_for(user_obj).is_admin

    def get_all_permissions(self, user_obj, obj=None):
        return set()
