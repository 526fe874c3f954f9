from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from governance.admin import AuditedModelAdmin, audited_action, audits_itself
from governance.services import client_ip
from listening.models import HarvestRun, Platform, SavedSearch, SavedSearchPlatform, WatchList, WatchListMember
from listening.services import saved_search_archive, saved_search_restore, saved_search_save

KEPT = "Its mentions and harvest history are kept until retention removes them."


class WatchListMemberInline(admin.TabularInline):
    model = WatchListMember
    extra = 1


@admin.register(WatchList)
class WatchListAdmin(AuditedModelAdmin):
    list_display = ("name", "x_list_id", "description")
    search_fields = ("name", "members__handle")
    inlines = [WatchListMemberInline]


class SavedSearchPlatformInline(admin.TabularInline):
    """Harvest state per platform, to read: the platforms themselves are chosen in the form."""

    model = SavedSearchPlatform
    extra = 0
    fields = ("platform", "next_run_at", "last_run_at", "last_status", "last_error")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SavedSearchAdminForm(forms.ModelForm):
    """The admin's edit form: the same fields as the app's, saved through saved_search_save."""

    platforms = forms.MultipleChoiceField(
        choices=Platform.choices, widget=forms.CheckboxSelectMultiple, help_text="Where this search runs."
    )

    class Meta:
        model = SavedSearch
        fields = [
            "team", "name", "query", "purpose", "purpose_statement", "publishable", "platforms", "interval_minutes",
            "enabled",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["platforms"] = self.instance.platforms

    def clean(self):
        cleaned = super().clean()
        if self.instance.archived_at is not None and cleaned.get("enabled"):
            self.add_error("enabled", "This saved search is archived. Restore it first (the Restore action), then enable it.")
        return cleaned


class ArchivedListFilter(admin.SimpleListFilter):
    """Archived searches are out of the list unless asked for."""

    title = "archived"
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("no", "Not archived"), ("yes", "Archived"), ("all", "All")]

    def queryset(self, request, queryset):
        value = self.value() or "no"
        if value == "all":
            return queryset
        return queryset.filter(archived_at__isnull=(value == "no"))

    def choices(self, changelist):
        # Django's own "All" (no parameter) means "not archived" here, so it is left out.
        for choice, (lookup, _title) in zip(list(super().choices(changelist))[1:], self.lookup_choices):
            choice["selected"] = (self.value() or "no") == lookup
            yield choice


@admin.action(permissions=["delete"], description="Archive selected saved searches (mentions and harvest history are kept)")
@audits_itself
def archive_selected(modeladmin, request, queryset):
    """Takes the place of Django's delete action: asks first, then archives."""
    if request.POST.get("post"):
        ip = client_ip(request)
        archived = [s for s in queryset if s.archived_at is None]
        for search in archived:
            saved_search_archive(saved_search=search, actor=request.user, ip=ip)
        modeladmin.message_user(
            request, f"Archived {len(archived)} saved search{'es' if len(archived) != 1 else ''}. "
            "They no longer run; their mentions and harvest history are kept.", messages.SUCCESS,
        )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Archive saved searches",
        "subtitle": None,
        "queryset": queryset,
        "opts": modeladmin.opts,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/listening/savedsearch/archive_selected_confirmation.html", context)


@admin.action(permissions=["change"], description="Restore selected archived saved searches (they stay disabled)")
@audits_itself
def restore_selected(modeladmin, request, queryset):
    ip = client_ip(request)
    restored = [s for s in queryset if s.archived_at is not None]
    for search in restored:
        saved_search_restore(saved_search=search, actor=request.user, ip=ip)
    modeladmin.message_user(request, f"Restored {len(restored)}; enable each one to harvest again.", messages.SUCCESS)


@admin.register(SavedSearch)
class SavedSearchAdmin(AuditedModelAdmin):
    """Saved searches, saved through the same audited service as the app; deleting archives."""

    form = SavedSearchAdminForm
    list_display = ("name", "team", "purpose", "publishable", "enabled", "interval_minutes", "updated_at", "archived_at")
    list_filter = (ArchivedListFilter, "team", "purpose", "enabled")
    search_fields = ("name", "query")
    readonly_fields = ("owner", "archived_at", "created_at", "updated_at")
    inlines = [SavedSearchPlatformInline]
    actions = [restore_selected]
    delete_confirmation_template = "admin/listening/savedsearch/archive_confirmation.html"

    def get_fields(self, request, obj=None):
        return [*SavedSearchAdminForm.Meta.fields, *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        saved_search_save(form=form, actor=request.user, ip=client_ip(request))

    def audit_save(self, request, *, obj, form, formsets, change):
        pass  # saved_search_save wrote the event, naming the changed fields; the inline is read-only

    # Deleting archives: the delete view, and the delete action in the list.
    def delete_model(self, request, obj):
        saved_search_archive(saved_search=obj, actor=request.user, ip=client_ip(request))

    def delete_queryset(self, request, queryset):
        ip = client_ip(request)
        for search in queryset:
            saved_search_archive(saved_search=search, actor=request.user, ip=ip)

    def has_delete_permission(self, request, obj=None):
        # An archived search has nothing left to delete.
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.archived_at)

    def delete_view(self, request, object_id, extra_context=None):
        return super().delete_view(request, object_id, {"title": "Archive", **(extra_context or {})})

    def get_deleted_objects(self, objs, request):
        # Nothing is deleted, so the confirmation lists only the searches being archived.
        return [str(obj) for obj in objs], {}, set(), []

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            actions["delete_selected"] = (
                audited_action(archive_selected, "delete_selected"), "delete_selected", archive_selected.short_description
            )
        return actions

    def response_delete(self, request, obj_display, obj_id):
        self.message_user(request, f"The saved search “{obj_display}” was archived. {KEPT}", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:listening_savedsearch_changelist", current_app=self.admin_site.name))


@admin.register(HarvestRun)
class HarvestRunAdmin(AuditedModelAdmin):
    list_display = ("saved_search", "channel", "platform", "started_at", "finished_at", "status", "fetched", "new", "matched")
    list_filter = ("platform", "status")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
