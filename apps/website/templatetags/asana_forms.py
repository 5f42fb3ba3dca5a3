"""``{% asana_form "contact" api_origin="https://api.example.org" %}``: one of the three forms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from apps.website.kit import form_context

register = template.Library()


@register.simple_tag
def asana_form(
    kind: str,
    *,
    api_origin: str = "",
    prefix: str = "",
    form_token: str = "",
    attribution: Mapping[str, str] | None = None,
) -> SafeString:
    context: dict[str, Any] = form_context(
        kind, api_origin=api_origin, prefix=prefix, form_token=form_token, attribution=attribution
    )
    return render_to_string(f"website/forms/{kind}.html", context)
