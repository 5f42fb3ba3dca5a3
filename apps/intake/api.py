"""The public form endpoints. Thin: validate the contract, call the intake service, answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from apps.intake.exceptions import InvalidIdempotencyKey
from apps.intake.request_origin import client_ip, user_agent
from apps.intake.serializers import (
    BookSignupInput,
    ContactRequestInput,
    InsuranceVerificationInput,
    SubmissionInput,
    SubmissionReceipt,
)
from apps.intake.services import RequestContext, request_fingerprint, submission_receive
from apps.intake.throttles import IntakeThrottle
from apps.leads.models import Submission

IDEMPOTENCY_KEY_MAX_LENGTH = 255


class ErrorDetail(serializers.Serializer[dict[str, Any]]):
    detail = serializers.CharField()


class FieldErrors(serializers.Serializer[dict[str, Any]]):
    """``{"field": ["why"], "non_field_errors": ["..."]}``"""

    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name="Idempotency-Key",
    type={"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH},
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "At most 255 characters. A retry with the same key and body answers as the first "
        "attempt did and stores nothing new; the same key with another body answers 422."
    ),
)
ERROR_RESPONSES = {
    400: OpenApiResponse(FieldErrors, description="Bad fields; nothing stored."),
    413: OpenApiResponse(ErrorDetail, description="Body or file too large."),
    415: OpenApiResponse(ErrorDetail, description="Unsupported content type."),
    422: OpenApiResponse(ErrorDetail, description="Idempotency-Key reused with another body."),
    429: OpenApiResponse(ErrorDetail, description="Too many requests; see Retry-After."),
    503: OpenApiResponse(ErrorDetail, description="Cannot store now; see Retry-After."),
}


class SubmissionApi(APIView):
    """POST one form. Anonymous (the visitor's browser or the site's server)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    input_serializer: ClassVar[type[SubmissionInput]]
    kind: ClassVar[str]

    def get_throttles(self) -> list[BaseThrottle]:
        if not settings.API_THROTTLE:
            return []
        return [IntakeThrottle()]

    def post(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is not None and not 0 < len(key.strip()) <= IDEMPOTENCY_KEY_MAX_LENGTH:
            raise InvalidIdempotencyKey(
                f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} characters."
            )
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        context = RequestContext(
            source_ip=client_ip(request),
            user_agent=user_agent(request),
            idempotency_key=key.strip() if key else None,
            fingerprint=request_fingerprint(endpoint=self.kind, data=request.data) if key else "",
        )
        receipt = submission_receive(
            kind=self.kind, data=serializer.validated_data, context=context
        )
        return Response(receipt.body, status=receipt.status)


PostHandler = Callable[[Any, Request], Response]


def _schema(summary: str, request: type[SubmissionInput]) -> Callable[[PostHandler], PostHandler]:
    decorator: Callable[[PostHandler], PostHandler] = extend_schema(
        summary=summary,
        request={
            "application/json": request,
            "application/x-www-form-urlencoded": request,
            "multipart/form-data": request,
        },
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={201: SubmissionReceipt, **ERROR_RESPONSES},
    )
    return decorator


class ContactRequestApi(SubmissionApi):
    input_serializer = ContactRequestInput
    kind = Submission.Kind.CONTACT

    @_schema('"Send Us a Message"', ContactRequestInput)
    def post(self, request: Request) -> Response:
        return super().post(request)


class InsuranceVerificationApi(SubmissionApi):
    input_serializer = InsuranceVerificationInput
    kind = Submission.Kind.VERIFICATION

    @_schema(
        '"Verify Insurance for Free": a verification-of-benefits request',
        InsuranceVerificationInput,
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class BookSignupApi(SubmissionApi):
    input_serializer = BookSignupInput
    kind = Submission.Kind.BOOK

    @_schema('"Get the free book"', BookSignupInput)
    def post(self, request: Request) -> Response:
        return super().post(request)
