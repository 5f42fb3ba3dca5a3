"""The baseline (a): a bare Django view that parses the JSON body and inserts one row.

No DRF, no validation beyond "is it a JSON object", no transaction block (autocommit: one
INSERT is one round trip). It runs behind the project's full middleware stack, like the API.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.intake.api import ContactRequestApi
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


# --- Floors (``run.py --floors``) ------------------------------------------------------------
# Not targets. Each is the contact endpoint with everything after a step taken away, behind the
# same middleware and server, so the run shows what the framework alone costs against (a).


class DrfOnlyFloor(APIView):
    """DRF's request cycle for the contact body: parse it, answer a 201. No validation, no
    storage: the least any DRF endpoint costs."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def post(self, request: Request) -> Response:
        return Response({"received": len(request.data)}, status=201)


class ContactValidateOnlyFloor(ContactRequestApi):
    """The real contact endpoint up to and including the contract's validation (the real
    serializer, the Idempotency-Key check), answering a 201 without storing anything."""

    def post(self, request: Request) -> Response:
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"reference": "FLOOR", "fields": len(serializer.validated_data)}, 201)
