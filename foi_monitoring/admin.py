from django.contrib import admin

from foi_monitoring.models import MonitoringSettings, PublicAuthority
from governance.admin import AuditedModelAdmin


@admin.register(PublicAuthority)
class PublicAuthorityAdmin(AuditedModelAdmin):
    list_display = ("name", "code", "authority_type", "nation", "active")
    list_filter = ("nation", "active", "authority_type")
    search_fields = ("name", "short_name", "code")
    fields = ("name", "short_name", "aliases", "handles", "web_domains", "authority_type", "nation", "region", "code",
              "source_id", "active")
    readonly_fields = ("source_id",)


@admin.register(MonitoringSettings)
class MonitoringSettingsAdmin(AuditedModelAdmin):
    """The flag thresholds: one row, changed (never added twice or deleted) by admins, audited."""

    list_display = ("__str__", "updated_at")

    def has_add_permission(self, request):
        return not MonitoringSettings.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False
