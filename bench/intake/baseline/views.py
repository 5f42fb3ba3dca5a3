"""The baseline (a): a bare Django view that parses the JSON body and inserts one row.

No DRF, no validation beyond "is it a JSON object", no transaction block (autocommit: one
INSERT is one round trip). It runs behind the project's full middleware stack, like the API.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bench.intake.baseline.models import BaselineLead


def _text(data: dict[str, object], name: str, limit: int) -> str:
    value = data.get(name)
    return str(value)[:limit] if value is not None else ""


@csrf_exempt
@require_POST
def baseline_lead(request: HttpRequest) -> JsonResponse:
    try:
        data = json.loads(request.body)
    except ValueError:
        return JsonResponse({"detail": "Body is not JSON."}, status=400)
    if not isinstance(data, dict):
        return JsonResponse({"detail": "Body is not a JSON object."}, status=400)
    lead = BaselineLead.objects.create(
        first_name=_text(data, "first_name", 100),
        last_name=_text(data, "last_name", 100),
        email=_text(data, "email", 254),
        phone=_text(data, "phone", 32),
        message=_text(data, "message", 5000),
    )
    return JsonResponse({"id": lead.pk}, status=201)
