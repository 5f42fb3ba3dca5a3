"""The public form endpoints. Thin: validate the contract, call the intake service, answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from apps.intake.exceptions import InvalidIdempotencyKey
from apps.intake.form_tokens import form_token_filled_too_fast, form_token_issue
from apps.intake.html_answers import wants_html
from apps.intake.request_origin import client_ip, user_agent
from apps.intake.serializers import (
    BookSignupInput,
    ContactRequestInput,
    InsuranceVerificationInput,
    SubmissionInput,
    SubmissionReceipt,
)
from apps.intake.services import RequestContext, request_fingerprint, submission_receive
from apps.intake.throttles import IntakeIpThrottle, IntakeThrottle
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

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        # A browser asking only for text/html gets a page from html_answers; never a 406 first.
        return super().perform_content_negotiation(request, force=force or wants_html(request))

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
            filled_too_fast=form_token_filled_too_fast(request.data.get("form_token")),
        )
        receipt = submission_receive(
            kind=self.kind, data=serializer.validated_data, context=context
        )
        return Response(receipt.body, status=receipt.status)


PostHandler = Callable[[Any, Request], Response]
FORM_POST_DESCRIPTION = (
    "JSON answers as listed below for every client that asks for `application/json`, sends "
    "`*/*` or no `Accept` at all. A browser posting a plain HTML form itself (its `Accept` "
    "names `text/html` and not `application/json`) gets pages instead: a 201 becomes "
    "`303 See Other` to the site's thank-you page (`FORMS_THANK_YOU_URL`, or the built-in "
    "`/forms/thank-you/`) with `reference`, `form` and, for crisis language, `crisis=1`; a 400 "
    "becomes a page listing the problems per field with a link back to the form; 413, 415, "
    "422, 429 and 503 become short pages with the same status (and `Retry-After`).\n\n"
    "Optional field `form_token`: the token from `GET /api/v1/form-tokens/`, taken when the "
    "form was shown. A form sent faster than a human could fill it is answered 201 and set "
    "aside as spam; a missing, forged or expired token is ignored, never a 400."
)


def _schema(summary: str, request: type[SubmissionInput]) -> Callable[[PostHandler], PostHandler]:
    decorator: Callable[[PostHandler], PostHandler] = extend_schema(
        summary=summary,
        description=FORM_POST_DESCRIPTION,
        request={
            "application/json": request,
            "application/x-www-form-urlencoded": request,
            "multipart/form-data": request,
        },
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: SubmissionReceipt,
            303: OpenApiResponse(
                description="Only for a browser's own HTML form post: to the thank-you page."
            ),
            **ERROR_RESPONSES,
        },
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


class FormTokenThrottle(IntakeIpThrottle):
    """Tokens per client IP; like the form posts, lets requests through when the cache is down."""

    scope = "form_tokens"


class FormTokenApi(APIView):
    """GET a render-time token for one form fill. Anonymous; holds only the time of issue."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    class OutputSerializer(serializers.Serializer[dict[str, Any]]):
        form_token = serializers.CharField(help_text="Send back as the form field `form_token`.")
        min_fill_seconds = serializers.FloatField(
            help_text="A form sent sooner than this after the token was issued is spam."
        )

    def get_throttles(self) -> list[BaseThrottle]:
        if not settings.API_THROTTLE:
            return []
        return [FormTokenThrottle()]

    @extend_schema(
        operation_id="form_tokens_issue",
        summary="A render-time token for one form fill",
        description=(
            "Take one when a form is shown and send it back as `form_token`. Signed, holds "
            "only the time of issue (no visitor id, no cookie). Never cache it."
        ),
        responses={200: OutputSerializer, 429: ErrorDetail},
        tags=["forms"],
    )
    def get(self, request: Request) -> Response:
        response = Response(
            {
                "form_token": form_token_issue(),
                "min_fill_seconds": settings.FORMS_MIN_FILL_SECONDS,
            }
        )
        response["Cache-Control"] = "no-store"
        return response
