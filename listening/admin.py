from django.contrib import admin

from listening.models import HarvestRun, SavedSearch, SavedSearchPlatform, WatchList, WatchListMember


class WatchListMemberInline(admin.TabularInline):
    model = WatchListMember
    extra = 1


@admin.register(WatchList)
class WatchListAdmin(admin.ModelAdmin):
    list_display = ("name", "x_list_id", "description")
    search_fields = ("name", "members__handle")
    inlines = [WatchListMemberInline]


class SavedSearchPlatformInline(admin.TabularInline):
    model = SavedSearchPlatform
    extra = 0
    fields = ("platform", "next_run_at", "last_run_at", "last_status", "last_error")
    readonly_fields = ("last_run_at", "last_status", "last_error")


@admin.register(SavedSearch)
class SavedSearchAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "purpose", "enabled", "interval_minutes", "updated_at")
    list_filter = ("team", "purpose", "enabled")
    search_fields = ("name", "query")
    inlines = [SavedSearchPlatformInline]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.owner = request.user
        super().save_model(request, obj, form, change)


@admin.register(HarvestRun)
class HarvestRunAdmin(admin.ModelAdmin):
    list_display = ("saved_search", "channel", "platform", "started_at", "finished_at", "status", "fetched", "new", "matched")
    list_filter = ("platform", "status")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
