"""The project's URLs plus the baseline path (bench settings only)."""

from __future__ import annotations

from django.urls import include, path

from bench.intake.baseline.views import baseline_lead

BASELINE_PATH = "/bench/baseline-leads/"

urlpatterns = [
    path(BASELINE_PATH.strip("/") + "/", baseline_lead, name="bench-baseline-lead"),
    path("", include("asana_leads.urls")),
]
