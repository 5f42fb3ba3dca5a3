"""GET /api/v1/payers/: the website's insurance dropdown."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.cache import patch_cache_control
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle
from rest_framework.views import APIView

from apps.payers.selectors import payer_list_active

# The list changes a few times a year; browsers and the site's CDN may reuse it for five minutes.
CACHE_MAX_AGE_SECONDS = 300


class PayerListThrottle(ScopedRateThrottle):
    """ScopedRateThrottle that reads its rate when it runs, not when DRF is imported, so the
    operators' ``THROTTLE_PAYERS`` and tests' settings take effect."""

    def get_rate(self) -> str | None:
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES
        rate: str | None = rates[str(self.scope)]
        return rate


class PayerListApi(APIView):
    """The active payers, in-network first, then by name, with self-pay last. Anonymous."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_scope = "payers"

    @extend_schema_serializer(component_name="Payer")
    class OutputSerializer(serializers.Serializer[Any]):
        slug = serializers.SlugField(
            help_text="Send this as `insurance_provider` when the person picks this entry."
        )
        name = serializers.CharField(help_text="What to show in the dropdown.")
        in_network = serializers.BooleanField(help_text="Whether the center is in network.")

    def get_throttles(self) -> list[BaseThrottle]:
        if not settings.API_THROTTLE:
            return []
        return [PayerListThrottle()]

    @extend_schema(
        operation_id="payers_list",
        summary="The insurance dropdown",
        description=(
            "Active payers for the verification form's `insurance_provider` dropdown: in-network "
            "payers first, then the others, each group by name, with the self-pay entry last. "
            "Send the chosen `slug`; a typed name works too and is matched on our side. "
            f"Cacheable for {CACHE_MAX_AGE_SECONDS} seconds."
        ),
        responses={
            200: OpenApiResponse(
                OutputSerializer(many=True), description="The dropdown's entries, in display order."
            ),
            429: OpenApiResponse(description="Too many requests; see Retry-After."),
            503: OpenApiResponse(description="The directory cannot be read now; see Retry-After."),
        },
        tags=["payers"],
    )
    def get(self, request: Request) -> Response:
        response = Response(self.OutputSerializer(payer_list_active(), many=True).data)
        patch_cache_control(response, public=True, max_age=CACHE_MAX_AGE_SECONDS)
        return response
