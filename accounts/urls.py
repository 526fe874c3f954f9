from django.urls import path

from accounts import signin_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("login/code/", signin_views.login_code, name="login_code"),
    path("two-factor/", signin_views.two_factor, name="two_factor"),
    path("two-factor/enrol/", signin_views.totp_enrol, name="totp_enrol"),
    path("two-factor/recovery-codes/", signin_views.recovery_codes, name="recovery_codes"),
    path("two-factor/remove/", signin_views.totp_remove, name="totp_remove"),
    path("access/two-factor-reset/", views.totp_reset, name="totp_reset"),
    path("access/invite/", views.invite, name="invite"),
    path("access/invite/<int:user_id>/resend/", views.invitation_resend_view, name="invitation_resend"),
    path("access/invite/<int:user_id>/withdraw/", views.invitation_withdraw_view, name="invitation_withdraw"),
    path("invitation/<str:uidb64>/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
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
