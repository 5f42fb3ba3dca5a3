"""GET /api/v1/marketing/contacts/: the read-only list sync for a mail platform or an ads
audience tool. Token auth scoped to exports (one destination), cursor pagination over a fixed
snapshot, the same selector as every other export, throttled per token."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.cache import patch_cache_control
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from apps.marketing.models import ExportToken
from apps.marketing.selectors import CHANNELS, Part2AcknowledgementRequired, SignupKind
from apps.marketing.services import SyncCursorInvalid, export_sync_page, export_token_authenticate

MAX_PAGE_SIZE = 5000


class ExportTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>`` with a token created in admin (Marketing → tokens)."""

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[None, ExportToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:  # noqa: PLR2004 - "Bearer" and the token
            raise exceptions.AuthenticationFailed("Send Authorization: Bearer <token>.")
        token = export_token_authenticate(raw=parts[1].decode("latin-1"))
        if token is None:
            raise exceptions.AuthenticationFailed("This token is not valid or was revoked.")
        return None, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="exports"'


class ExportTokenAuthenticationScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "apps.marketing.api.ExportTokenAuthentication"
    name = "exportToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A sync token from admin."}


class HasExportToken(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ExportToken)


class ExportSyncThrottle(SimpleRateThrottle):
    """Requests per token (rate read when it runs, so settings and tests take effect)."""

    scope = "export_sync"

    def get_rate(self) -> str | None:
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES
        rate: str | None = rates[str(self.scope)]
        return rate

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        token = request.auth
        ident = str(token.pk) if isinstance(token, ExportToken) else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class MarketableContactSerializer(serializers.Serializer[Any]):
    """One row of a list: the export's columns, nothing else."""

    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField(help_text="Empty on the SMS list.")
    phone = serializers.CharField(help_text="E.164; empty on the email list.")
    consent_channel = serializers.ChoiceField(choices=CHANNELS)
    consented_at = serializers.DateTimeField()
    consent_wording_id = serializers.CharField(help_text="SHA-256 of the consent wording.")
    first_source = serializers.CharField()
    first_medium = serializers.CharField()
    first_campaign = serializers.CharField()
    latest_source = serializers.CharField()
    latest_medium = serializers.CharField()
    latest_campaign = serializers.CharField()


class MarketableContactListApi(APIView):
    """Marketable contacts for the token's destination: the same rules and columns as files."""

    authentication_classes = (ExportTokenAuthentication,)
    permission_classes = (HasExportToken,)

    class InputSerializer(serializers.Serializer[Any]):
        channel = serializers.ChoiceField(choices=CHANNELS)
        cursor = serializers.CharField(required=False, max_length=500)
        page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE)
        incremental = serializers.BooleanField(required=False, default=False)
        signup_kind = serializers.ChoiceField(
            choices=[c[0] for c in SignupKind.CHOICES], required=False, default=SignupKind.BOOK
        )

    class OutputSerializer(serializers.Serializer[Any]):
        results = MarketableContactSerializer(many=True)
        next = serializers.CharField(
            allow_null=True, help_text="The next page's cursor; null on the last page."
        )

    def get_throttles(self) -> list[BaseThrottle]:
        if not settings.API_THROTTLE:
            return []
        return [ExportSyncThrottle()]

    @extend_schema(
        operation_id="marketing_contacts_list",
        summary="Marketable contacts, for list syncs",
        description=(
            "Contacts who consented to the channel (the latest decision counts), not suppressed, "
            "not do-not-contact, not Part 2 restricted; book signups unless the token was created "
            "with inquiries and the 42 CFR 2.32 acknowledgement. The first request (no cursor) "
            "fixes the snapshot; follow `next` until it is null. `incremental=true` lists only "
            "contacts who consented since the last completed sync to the token's destination, "
            "up to a cutoff a couple of minutes in the past (sign-ups still being saved are "
            "listed by the next sync)."
        ),
        parameters=[
            OpenApiParameter("channel", OpenApiTypes.STR, enum=list(CHANNELS), required=True),
            OpenApiParameter("cursor", OpenApiTypes.STR),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="1-5000, default 1000"),
            OpenApiParameter("incremental", OpenApiTypes.BOOL),
            OpenApiParameter(
                "signup_kind", OpenApiTypes.STR, enum=[c[0] for c in SignupKind.CHOICES]
            ),
        ],
        responses={
            200: OpenApiResponse(OutputSerializer, description="One page of contacts."),
            400: OpenApiResponse(description="A parameter is wrong or the cursor is not valid."),
            401: OpenApiResponse(description="No token, or a revoked or unknown one."),
            403: OpenApiResponse(description="Inquiries were asked for on a book-only token."),
            429: OpenApiResponse(description="Too many requests; see Retry-After."),
        },
        tags=["marketing"],
    )
    def get(self, request: Request) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        token = request.auth
        assert isinstance(token, ExportToken)
        try:
            page = export_sync_page(
                token=token,
                cursor=data.get("cursor"),
                page_size=data.get("page_size") or settings.EXPORT_SYNC_PAGE_SIZE,
                channel=data["channel"],
                incremental=data["incremental"],
                signup_kind=data["signup_kind"],
                request=request._request,
            )
        except Part2AcknowledgementRequired as exc:
            raise exceptions.PermissionDenied(
                "This token lists book signups only (no Part 2 acknowledgement)."
            ) from exc
        except SyncCursorInvalid as exc:
            raise exceptions.ValidationError({"cursor": [str(exc)]}) from exc
        response = Response({"results": page.rows, "next": page.next_cursor})
        patch_cache_control(response, no_store=True, private=True)
        return response
