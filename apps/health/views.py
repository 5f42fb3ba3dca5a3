"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.health.checks import broker_problem, database_problem


@never_cache
@require_GET
def liveness(request: HttpRequest) -> JsonResponse:
    """200 whenever the process serves requests; touches nothing else."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readiness(request: HttpRequest) -> JsonResponse:
    """200 only when the database and the broker answer; else 503 naming which failed."""
    problems = {
        name: problem
        for name, problem in (("database", database_problem()), ("broker", broker_problem()))
        if problem
    }
    if problems:
        response = JsonResponse(
            {"status": "unavailable", "failed": sorted(problems), "problems": problems},
            status=503,
        )
        response["Retry-After"] = "10"
        return response
    return JsonResponse({"status": "ok", "checks": {"database": "ok", "broker": "ok"}})
