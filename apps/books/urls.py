from __future__ import annotations

from django.urls import path

from apps.books import views

app_name = "books"
urlpatterns = [
    path("download/<str:token>/", views.book_download, name="download"),
]
