"""Refuse oversized bodies on the public form paths before anything parses them (413)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

FORM_PATH_PREFIX = "/api/v1/"


class IntakeBodyLimitMiddleware:
    """A form post without files is a few KB; with card photos at most two files and fields.

    Checked on the declared length, so a 50 MB upload is refused before it is read.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path.startswith(FORM_PATH_PREFIX):
            limit = (
                settings.INTAKE_MAX_MULTIPART_BYTES
                if request.content_type == "multipart/form-data"
                else settings.INTAKE_MAX_BODY_BYTES
            )
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return JsonResponse(
                    {"detail": f"The request body is too large (limit {limit} bytes)."},
                    status=413,
                )
        return self.get_response(request)
