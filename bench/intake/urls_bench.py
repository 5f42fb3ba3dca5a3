"""The project's URLs plus the baseline path (bench settings only)."""

from __future__ import annotations

from django.urls import include, path

from bench.intake.baseline.one_statement import ContactOneStatementFloor
from bench.intake.baseline.views import ContactValidateOnlyFloor, DrfOnlyFloor, baseline_lead
from bench.intake.bodies import (
    BASELINE_PATH,
    FLOOR_DRF_PATH,
    FLOOR_ONE_STATEMENT_PATH,
    FLOOR_VALIDATE_PATH,
)

urlpatterns = [
    path(BASELINE_PATH.strip("/") + "/", baseline_lead, name="bench-baseline-lead"),
    path(FLOOR_DRF_PATH.strip("/") + "/", DrfOnlyFloor.as_view()),
    path(FLOOR_VALIDATE_PATH.strip("/") + "/", ContactValidateOnlyFloor.as_view()),
    path(FLOOR_ONE_STATEMENT_PATH.strip("/") + "/", ContactOneStatementFloor.as_view()),
    path("", include("asana_leads.urls")),
]
