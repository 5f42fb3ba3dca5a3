from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from apps.admissions.views import admin_home
from apps.health import views as health_views

urlpatterns = [
    path("healthz/", health_views.liveness, name="healthz"),
    path("readyz/", health_views.readiness, name="readyz"),
    path("healthz/outbox/", health_views.outbox, name="healthz-outbox"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("apps.intake.urls")),
    path("api/v1/", include("apps.payers.urls")),
    path("api/v1/", include("apps.marketing.urls")),
    path("f/", include("apps.followups.urls")),
    path("books/", include("apps.books.urls")),
    path("forms/", include("apps.website.urls")),
    # Before the admin's own URLs: Admissions land on the lead queue.
    path(settings.ADMIN_URL, admin_home, name="admin-home"),
    path(settings.ADMIN_URL, admin.site.urls),
]
