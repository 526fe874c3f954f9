from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.db import router, transaction
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AccessGrant, Team, User
from accounts.reauth import recent_auth_required
from accounts.services import access_grant_create, access_grant_revoke
from governance.admin import AuditedAdminMixin, AuditedModelAdmin, audits_itself
from governance.services import audit_event_record, client_ip


class RecentAuthAdminMixin:
    """Admin pages that change who can see what, or sign-in credentials, ask for the password again
    like the app's own pages (accounts/reauth.py). Lists stay open; their bulk actions do not."""

    def add_view(self, request, *args, **kwargs):
        return recent_auth_required(super().add_view)(request, *args, **kwargs)

    def change_view(self, request, *args, **kwargs):
        return recent_auth_required(super().change_view)(request, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        return recent_auth_required(super().delete_view)(request, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):
        if request.method == "POST":
            return recent_auth_required(super().changelist_view)(request, *args, **kwargs)
        return super().changelist_view(request, *args, **kwargs)


# Authenticator devices and recovery codes are managed in the app (accounts/two_factor.py):
# each person's own page, and an audited reset on the Access page. Django admin's forms for
# them would show secrets and let anyone with admin plant a device on another account.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(User)
class EarshotUserAdmin(RecentAuthAdminMixin, AuditedAdminMixin, UserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "is_active", "last_login")
    list_filter = ("is_active",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email")}),
        ("Status", {"fields": ("is_active", "last_login", "date_joined")}),
        # Exclusion is set on the Access page, where it also revokes what the person holds.
        ("Excluded", {"fields": ("excluded_at", "excluded_reason", "excluded_by")}),
    )
    readonly_fields = ("last_login", "date_joined", "excluded_at", "excluded_reason", "excluded_by")

    @method_decorator(sensitive_post_parameters())
    @method_decorator(recent_auth_required)
    def user_change_password(self, request, id, form_url=""):
        """Django's password form, with an audit row in the same transaction when it saves.

        Setting someone's password lets an admin sign in as them, so the event names
        the person; it never holds the password or its hash.
        """
        if request.method != "POST":
            return super().user_change_password(request, id, form_url)
        with transaction.atomic(using=router.db_for_write(self.model)):
            user = self.get_object(request, unquote(id))
            response = super().user_change_password(request, id, form_url)
            if user is not None:
                # The stored hash changes exactly when the form saved (each hash has a new salt).
                saved = User.objects.filter(pk=user.pk).exclude(password=user.password).first()
                if saved is not None:
                    audit_event_record(
                        action="admin.password_change", actor=request.user, obj=saved, ip=client_ip(request),
                        details={
                            "via": "admin", "user": saved.get_username(), "fields": ["password"],
                            "password_sign_in": saved.has_usable_password(),
                        },
                    )
        return response


@admin.register(Team)
class TeamAdmin(AuditedModelAdmin):
    list_display = ("name", "slug", "email")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)


@admin.action(description="Revoke the selected grants")
@audits_itself
def revoke_grants(modeladmin, request, queryset):
    ip = client_ip(request)
    for grant in queryset.filter(revoked_at__isnull=True).select_related("user", "team"):
        access_grant_revoke(grant=grant, revoked_by=request.user, ip=ip)


class AccessGrantAdminForm(forms.ModelForm):
    class Meta:
        model = AccessGrant
        fields = ("user", "team", "role", "reason", "expires_on")

    def clean(self):
        # The service refuses too; checking here turns the refusal into a form error, not a crash.
        data = super().clean()
        user = data.get("user")
        if self.instance.pk is None and user is not None and user.is_excluded:
            raise forms.ValidationError(f"{user.get_username()} is excluded from Earshot: {user.excluded_reason}")
        expires_on = data.get("expires_on")
        if self.instance.pk is None and expires_on is not None and expires_on <= timezone.localdate():
            raise forms.ValidationError("The expiry date must be after today.")
        return data


@admin.register(AccessGrant)
class AccessGrantAdmin(RecentAuthAdminMixin, AuditedModelAdmin):
    """The access list. Grants are never edited or deleted, only revoked, so history stays."""

    list_display = ("user", "team", "role", "granted_by", "granted_at", "revoked_by", "revoked_at")
    list_filter = ("role", "team", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("user__username", "user__first_name", "user__last_name", "reason")
    actions = [revoke_grants]
    form = AccessGrantAdminForm
    fields = ("user", "team", "role", "reason", "expires_on")

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return  # every field is read-only once granted
        grant = access_grant_create(
            user=obj.user, team=obj.team, role=obj.role, granted_by=request.user, reason=obj.reason,
            expires_on=obj.expires_on, ip=client_ip(request),
        )
        obj.pk, obj.granted_by, obj.granted_at = grant.pk, grant.granted_by, grant.granted_at

    def audit_save(self, request, *, obj, form, formsets, change):
        # access_grant_create wrote the "access.grant" row; a change saves nothing.
        pass
