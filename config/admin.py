from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class EarshotAdminSite(admin.AdminSite):
    site_header = "Earshot administration"
    site_title = "Earshot admin"
    index_title = "Teams, access, searches and watch lists"

    def has_permission(self, request):
        from accounts.access import access_for

        return request.user.is_active and access_for(request.user).is_admin


class EarshotAdminConfig(AdminConfig):
    default_site = "config.admin.EarshotAdminSite"
