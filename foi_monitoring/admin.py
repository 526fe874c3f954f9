from django.contrib import admin

from foi_monitoring.models import PublicAuthority
from governance.admin import AuditedModelAdmin


@admin.register(PublicAuthority)
class PublicAuthorityAdmin(AuditedModelAdmin):
    list_display = ("name", "code", "authority_type", "nation", "active")
    list_filter = ("nation", "active", "authority_type")
    search_fields = ("name", "short_name", "code")
