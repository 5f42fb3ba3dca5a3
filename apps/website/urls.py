from __future__ import annotations

from django.urls import path

from apps.website import views

app_name = "website"
urlpatterns = [
    path("thank-you/", views.thank_you, name="thank-you"),
    path("demo/", views.demo, name="demo"),
]
