from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("confirm/", views.reauth, name="reauth"),
    path("access/", views.access_list, name="access"),
    path("access/grant/", views.access_grant, name="access_grant"),
    path("access/<int:grant_id>/revoke/", views.access_revoke, name="access_revoke"),
    path("access/<int:grant_id>/confirm/", views.access_confirm, name="access_confirm"),
    path("access/exclude/", views.user_exclude_view, name="user_exclude"),
    path("access/exclude/<int:user_id>/lift/", views.user_exclusion_lift_view, name="user_exclusion_lift"),
    path("access/history/", views.access_history, name="access_history"),
    path("access/export/", views.access_export, name="access_export"),
]
