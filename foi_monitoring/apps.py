from django.apps import AppConfig


class FoiMonitoringConfig(AppConfig):
    name = "foi_monitoring"
    verbose_name = "FOI monitoring"
