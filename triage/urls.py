from django.urls import path

from triage import views

app_name = "triage"
urlpatterns = [
    path("inbox/<slug:slug>/", views.inbox, name="inbox"),
    path("items/<int:item_id>/", views.item_detail, name="item"),
    path("items/<int:item_id>/decide/", views.decide, name="decide"),
]
