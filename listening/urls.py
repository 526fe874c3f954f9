from django.urls import path

from listening import views

app_name = "listening"
urlpatterns = [
    path("searches/", views.saved_search_list, name="saved_searches"),
    path("searches/new/", views.saved_search_edit, name="saved_search_new"),
    path("searches/<int:search_id>/", views.saved_search_edit, name="saved_search_edit"),
    path("searches/<int:search_id>/archive/", views.saved_search_archive_view, name="saved_search_archive"),
    path("searches/check/", views.saved_search_check, name="saved_search_check"),
    path("searches/try/", views.saved_search_try, name="saved_search_try"),
    path("harvests/", views.harvest_health, name="harvest_health"),
]
