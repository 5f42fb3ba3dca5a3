from __future__ import annotations

from django.urls import path

from apps.followups import views

app_name = "followups"
urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("sms/inbound/", views.sms_inbound, name="sms-inbound"),
]
