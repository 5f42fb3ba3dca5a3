from __future__ import annotations

from django.urls import path

from apps.payers import api

urlpatterns = [
    path("payers/", api.PayerListApi.as_view(), name="payers"),
]
