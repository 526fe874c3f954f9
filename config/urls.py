from django.contrib import admin
from django.urls import include, path

from config.views import healthz
from triage.views import home

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("", include("triage.urls")),
    path("", include("listening.urls")),
    path("foi/", include("foi_monitoring.urls")),
    path("governance/", include("governance.urls")),
    path("admin/", admin.site.urls),
]
