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


@never_cache
@require_GET
def outbox(request: HttpRequest) -> JsonResponse:
    """Follow-up delivery health: 200 when nothing failed and nothing is overdue, else 503
    with the counts (no personal data), for monitoring to page on."""
    from apps.followups.selectors import outbox_health

    health = outbox_health()
    body = {
        "status": "ok" if health.healthy else "degraded",
        "failed": health.failed,
        "pending_overdue": health.pending_overdue,
        "sending": health.sending,
        "oldest_overdue_seconds": health.oldest_overdue_seconds,
    }
    return JsonResponse(body, status=200 if health.healthy else 503)
