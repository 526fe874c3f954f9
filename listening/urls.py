from django.urls import path

from listening import platform_views, views

app_name = "listening"
urlpatterns = [
    path("searches/", views.saved_search_list, name="saved_searches"),
    path("searches/new/", views.saved_search_edit, name="saved_search_new"),
    path("searches/<int:search_id>/", views.saved_search_edit, name="saved_search_edit"),
    path("searches/<int:search_id>/archive/", views.saved_search_archive_view, name="saved_search_archive"),
    path("searches/check/", views.saved_search_check, name="saved_search_check"),
    path("searches/try/", views.saved_search_try, name="saved_search_try"),
    path("harvests/", views.harvest_health, name="harvest_health"),
    path("platforms/", platform_views.platforms, name="platforms"),
    path("platforms/credentials/new/<slug:platform>/", platform_views.credential_new, name="credential_new"),
    path("platforms/credentials/<int:credential_id>/", platform_views.credential_edit, name="credential_edit"),
    path("platforms/credentials/<int:credential_id>/test/", platform_views.credential_test, name="credential_test"),
    path("platforms/credentials/<int:credential_id>/delete/", platform_views.credential_delete, name="credential_delete"),
    path("platforms/spend/<slug:platform>/", platform_views.spend_cap_edit, name="spend_cap_edit"),
    path("platforms/channels/", platform_views.channel_list, name="channels"),
    path("platforms/channels/new/", platform_views.channel_edit, name="channel_new"),
    path("platforms/channels/<int:channel_id>/", platform_views.channel_edit, name="channel_edit"),
]
