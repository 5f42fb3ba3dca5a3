from __future__ import annotations

from django.urls import path

from apps.marketing import api

urlpatterns = [
    path("marketing/contacts/", api.MarketableContactListApi.as_view(), name="marketing-contacts"),
]
