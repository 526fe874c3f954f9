"""Django admin writes land in the audit log, like every other write.

`AuditedAdminMixin` is the base of every ModelAdmin on the site: EarshotAdminSite
(config/admin.py) mixes it into any admin class registered without it, so a model
cannot be registered unaudited. Each add, change, delete and bulk action writes an
AuditEvent in the same transaction as the write. An event names the fields that
changed (and the inline rows added, changed or deleted), never their values: values
may be passwords, hashes or platform secrets.
"""

import functools

from django.contrib import admin
from django.contrib.admin.actions import delete_selected
from django.db import transaction

from governance.models import AuditEvent
from governance.services import audit_event_record, audit_repr, client_ip

# Form fields that stand for the password: recorded as "password", one name for all.
PASSWORD_FIELDS = frozenset({"password", "password1", "password2", "usable_password", "set_usable_password"})


def changed_field_names(form) -> list[str]:
    """The names of the fields a form changed; password fields all become "password"."""
    return sorted({"password" if name in PASSWORD_FIELDS else name for name in form.changed_data})


def inline_changes(formsets) -> list[dict]:
    """What each saved inline formset added, changed and deleted: rows and field names only."""
    changes = []
    for formset in formsets or ():
        entry = {
            "model": formset.model._meta.label_lower,
            "added": [audit_repr(obj) for obj in getattr(formset, "new_objects", ())],
            "changed": [
                {"object": audit_repr(obj), "fields": sorted(fields)} for obj, fields in getattr(formset, "changed_objects", ())
            ],
            "deleted": [audit_repr(obj) for obj in getattr(formset, "deleted_objects", ())],
        }
        if entry["added"] or entry["changed"] or entry["deleted"]:
            changes.append(entry)
    return changes


def audits_itself(action):
    """Mark an admin action whose writes already go through audited services."""
    action.audits_itself = True
    return action


class AuditedAdminMixin:
    """Writes an AuditEvent for every admin add, change, delete and bulk action.

    Subclasses whose save goes through an audited service override `audit_save` to
    write nothing more (the service's event names the changed fields).
    """

    # Saves: after the object and its inlines are saved, inside the admin's transaction.
    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self.audit_save(request, obj=form.instance, form=form, formsets=formsets, change=change)

    def audit_save(self, request, *, obj, form, formsets, change):
        details = {"via": "admin", "fields": changed_field_names(form)}
        inlines = inline_changes(formsets)
        if inlines:
            details["inlines"] = inlines
        audit_event_record(
            action="admin.change" if change else "admin.add",
            actor=request.user, obj=obj, ip=client_ip(request), details=details,
        )

    # Deletes: the event is written before the row goes, while it still has its id.
    def delete_model(self, request, obj):
        with transaction.atomic():
            self.audit_delete(request, obj=obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self.audit_delete(request, obj=obj, bulk=True)
            super().delete_queryset(request, queryset)

    def audit_delete(self, request, *, obj, bulk=False):
        details = {"via": "admin"}
        if bulk:
            details["bulk"] = True
        audit_event_record(action="admin.delete", actor=request.user, obj=obj, ip=client_ip(request), details=details)

    # Bulk actions: each runs in one transaction. delete_selected is audited through
    # delete_queryset; actions marked audits_itself write their own events; any
    # other action gets an event per selected object naming the action.
    def get_actions(self, request):
        actions = super().get_actions(request)
        return {name: (audited_action(func, name), name, description) for name, (func, _, description) in actions.items()}


def audited_action(func, name: str):
    """The admin action `func`, run in one transaction and audited (see get_actions above)."""
    if getattr(func, "audit_wrapped", False):
        return func

    @functools.wraps(func)
    def run(modeladmin, request, queryset):
        with transaction.atomic():
            if func is delete_selected or getattr(func, "audits_itself", False):
                return func(modeladmin, request, queryset)
            selected = list(queryset)
            response = func(modeladmin, request, queryset)
            ip = client_ip(request)
            for obj in selected:
                audit_event_record(
                    action="admin.action", actor=request.user, obj=obj, ip=ip,
                    details={"via": "admin", "action": name, "selected": len(selected)},
                )
            return response

    run.audit_wrapped = True
    return run


class AuditedModelAdmin(AuditedAdminMixin, admin.ModelAdmin):
    pass


def audited(admin_class: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    """The admin class itself if it audits its writes, else a subclass that does."""
    if issubclass(admin_class, AuditedAdminMixin):
        return admin_class
    return type(f"Audited{admin_class.__name__}", (AuditedAdminMixin, admin_class), {"__module__": admin_class.__module__})


@admin.register(AuditEvent)
class AuditEventAdmin(AuditedModelAdmin):
    """Read-only: the audit log cannot be edited or deleted through the app."""

    list_display = ("at", "actor_label", "action", "object_type", "object_repr", "ip")
    list_filter = ("action", "object_type")
    search_fields = ("actor_label", "object_repr", "action")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
