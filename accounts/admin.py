from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django.utils import timezone

from accounts.models import AccessGrant, Team, User
from accounts.services import access_grant_create
from governance.services import audit_event_record, client_ip


@admin.register(User)
class EarshotUserAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "is_active", "last_login")
    list_filter = ("is_active",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email")}),
        ("Status", {"fields": ("is_active", "last_login", "date_joined")}),
    )
    readonly_fields = ("last_login", "date_joined")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "email")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)


@admin.action(description="Revoke the selected grants")
def revoke_grants(modeladmin, request, queryset):
    with transaction.atomic():
        for grant in queryset.filter(revoked_at__isnull=True).select_for_update():
            grant.revoked_at, grant.revoked_by = timezone.now(), request.user
            grant.save(update_fields=["revoked_at", "revoked_by"])
            audit_event_record(action="access.revoke", actor=request.user, obj=grant, ip=client_ip(request))


@admin.register(AccessGrant)
class AccessGrantAdmin(admin.ModelAdmin):
    """The access list. Grants are never edited or deleted, only revoked, so history stays."""

    list_display = ("user", "team", "role", "granted_by", "granted_at", "revoked_by", "revoked_at")
    list_filter = ("role", "team", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("user__username", "user__first_name", "user__last_name", "reason")
    actions = [revoke_grants]
    fields = ("user", "team", "role", "reason")

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        grant = access_grant_create(
            user=obj.user, team=obj.team, role=obj.role, granted_by=request.user, reason=obj.reason
        )
        obj.pk, obj.granted_by, obj.granted_at = grant.pk, grant.granted_by, grant.granted_at
