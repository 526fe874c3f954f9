from django.urls import path

from governance import retention_views, subject_access_views, transparency_views, views

app_name = "governance"

urlpatterns = [
    path("audit/", views.audit_log, name="audit_log"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
    path("audit/verify/", views.audit_verify, name="audit_verify"),
    path("retention/", retention_views.retention, name="retention"),
    path("retention/<slug:category>/preview/", retention_views.retention_preview_view, name="retention_preview"),
    path("retention/<slug:category>/", retention_views.retention_save, name="retention_save"),
    path("subject-access/", subject_access_views.subject_access, name="subject_access"),
    path("subject-access/export/", subject_access_views.subject_access_export_view, name="subject_access_export"),
    path("subject-access/erasure/preview/", subject_access_views.erasure_preview_view, name="erasure_preview"),
    path("subject-access/erasure/", subject_access_views.erasure_view, name="erasure"),
    path("subject-access/collect-again/", subject_access_views.collect_again_view, name="collect_again"),
    path("transparency/", transparency_views.transparency, name="transparency"),
    path("transparency/print/", transparency_views.transparency_print, name="transparency_print"),
    path("transparency.json", transparency_views.transparency_json, name="transparency_json"),
    path("transparency.csv", transparency_views.transparency_csv, name="transparency_csv"),
]
