from django.urls import path

from governance import transparency_views, views

app_name = "governance"

urlpatterns = [
    path("audit/", views.audit_log, name="audit_log"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
    path("audit/verify/", views.audit_verify, name="audit_verify"),
    path("transparency/", transparency_views.transparency, name="transparency"),
    path("transparency/print/", transparency_views.transparency_print, name="transparency_print"),
    path("transparency.json", transparency_views.transparency_json, name="transparency_json"),
    path("transparency.csv", transparency_views.transparency_csv, name="transparency_csv"),
]
