from django.urls import path

from foi_monitoring import views

app_name = "foi_monitoring"
urlpatterns = [
    path("authorities/", views.authority_list, name="authorities"),
]
