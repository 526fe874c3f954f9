from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class EarshotAdminSite(admin.AdminSite):
    site_header = "Earshot administration"
    site_title = "Earshot admin"
    index_title = "Teams, access, searches and watch lists"

    def login(self, request, extra_context=None):
        # One sign-in page for everyone (with throttling and the audit trail).
        from django.contrib.auth.views import redirect_to_login
        from django.core.exceptions import PermissionDenied
        from django.urls import reverse

        if request.user.is_authenticated:
            raise PermissionDenied("Django admin is for admins on the access list.")
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"), reverse("accounts:login"))

    def register(self, model_or_iterable, admin_class=None, **options):
        # Every registered model is audited, including third-party apps' admins.
        from governance.admin import AuditedModelAdmin, audited

        super().register(model_or_iterable, audited(admin_class or AuditedModelAdmin), **options)

    def has_permission(self, request):
        from accounts.access import access_for

        return request.user.is_active and access_for(request.user).is_admin


class EarshotAdminConfig(AdminConfig):
    default_site = "config.admin.EarshotAdminSite"
