from django.urls import path

from foi_monitoring import views

app_name = "foi_monitoring"
urlpatterns = [
    path("authorities/", views.authority_list, name="authorities"),
    path("authorities/import/", views.authority_import, name="authority_import"),
    path("authorities/<int:authority_id>/", views.authority_detail, name="authority"),
    path("flags/", views.flag_list, name="flags"),
    path("api/flags/", views.flag_api, name="flag_api"),
    path("meetings/", views.meeting_list, name="meetings"),
    path("meetings/<int:meeting_id>/", views.meeting_detail, name="meeting"),
    path("meetings/<int:meeting_id>/agenda/", views.meeting_add_authority, name="meeting_add_authority"),
    path("meetings/<int:meeting_id>/decisions/<int:decision_id>/", views.meeting_decide, name="meeting_decide"),
    path("meetings/<int:meeting_id>/close/", views.meeting_close, name="meeting_close"),
    path("meetings/<int:meeting_id>/minutes.csv", views.meeting_minutes, name="meeting_minutes"),
]
