from django.urls import path

from triage import alert_views, case_views, circulation_views, desk_views, team_views, views

app_name = "triage"
urlpatterns = [
    path("inbox/<slug:slug>/", views.inbox, name="inbox"),
    path("items/<int:item_id>/", views.item_detail, name="item"),
    path("items/<int:item_id>/decide/", views.decide, name="decide"),
    path("items/<int:item_id>/claim/", desk_views.claim, name="claim"),
    path("items/<int:item_id>/release/", desk_views.release, name="release"),
    path("items/<int:item_id>/take-over/", desk_views.take_over, name="take_over"),
    path("items/<int:item_id>/assign/", desk_views.assign, name="assign"),
    path("items/<int:item_id>/undo/", desk_views.undo, name="undo"),
    path("inbox/<slug:slug>/holders/", desk_views.holders, name="holders"),
    path("inbox/<slug:slug>/bulk/", desk_views.bulk, name="bulk"),

    path("items/<int:item_id>/group/", views.group, name="group"),
    path("items/<int:item_id>/circulate/", circulation_views.circulate, name="circulate"),
    path("teams/<slug:slug>/", team_views.team_overview, name="team"),
    path("teams/<slug:slug>/mail/", circulation_views.team_mail, name="team_mail"),
    path("teams/<slug:slug>/circulations/", circulation_views.circulation_list, name="circulations"),
    path("teams/<slug:slug>/circulations.csv", circulation_views.circulation_export, name="circulations_export"),
    path("circulations/<int:circulation_id>/retry/", circulation_views.circulation_retry_view, name="circulation_retry"),
    path("teams/<slug:slug>/alerts/", alert_views.alert_list, name="alerts"),
    path("alerts/<int:alert_id>/dismiss/", alert_views.alert_dismiss, name="alert_dismiss"),
    path("saved-searches/<int:search_id>/spike-thresholds/", alert_views.spike_threshold, name="spike_threshold"),
    path("teams/<slug:slug>/cases/", case_views.case_list, name="cases"),
    path("teams/<slug:slug>/cases/due/", case_views.cases_due, name="cases_due"),
    path("cases/<str:reference>/", case_views.case_detail, name="case"),
    path("cases/<str:reference>/note/", case_views.case_note, name="case_note"),
    path("cases/<str:reference>/pause/", case_views.case_pause, name="case_pause"),
    path("cases/<str:reference>/resume/", case_views.case_resume, name="case_resume"),
    path("cases/<str:reference>/extend/", case_views.case_extend, name="case_extend"),
    path("cases/<str:reference>/assign/", case_views.case_assign, name="case_assign"),
    path("cases/<str:reference>/close/", case_views.case_close, name="case_close"),
    path("cases/<str:reference>/reopen/", case_views.case_reopen, name="case_reopen"),
]
