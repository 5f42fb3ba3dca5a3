"""The kit's own pages: the built-in thank-you page and the demo page."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.intake.crisis import CRISIS_RESOURCES
from apps.intake.form_tokens import form_token_issue
from apps.website.kit import ATTRIBUTION_FIELDS

# A reference as the API issues them ("K7MQ-4T9R"); anything else in the URL is not shown, so
# a crafted link cannot put words on this page.
REFERENCE_PATTERN = re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}$")
NEXT_STEPS = {
    "contact": (
        "An admissions coordinator will contact you soon. If you would like to talk now, "
        "call us at {phone}."
    ),
    "verification": (
        "We are checking your benefits now; an admissions coordinator will call you with what "
        "your plan covers. Quote your reference, or call us at {phone}."
    ),
    "book": "Your free book is on its way: check your inbox in a few minutes.",
}
CRISIS_NEXT_STEPS = (
    "An admissions coordinator is being alerted now and will reach out to you. Our team: {phone}."
)


def _center() -> dict[str, str]:
    return {
        "center_name": settings.CENTER_NAME,
        "center_phone": settings.CENTER_PHONE,
        "center_phone_href": re.sub(r"[^0-9+]", "", settings.CENTER_PHONE),
    }


@require_GET
def thank_you(request: HttpRequest) -> HttpResponse:
    """Where a plain HTML form lands when the site has no thank-you page of its own."""
    reference = request.GET.get("reference", "").strip().upper()
    kind = request.GET.get("form", "")
    crisis = request.GET.get("crisis") == "1"
    template = CRISIS_NEXT_STEPS if crisis else NEXT_STEPS.get(kind, NEXT_STEPS["contact"])
    response = render(
        request,
        "forms/thank_you.html",
        {
            **_center(),
            "reference": reference if REFERENCE_PATTERN.match(reference) else "",
            "crisis": crisis,
            "crisis_resources": CRISIS_RESOURCES,
            "next_steps": template.format(phone=settings.CENTER_PHONE),
        },
    )
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def demo(request: HttpRequest) -> HttpResponse:
    """The three forms as the center's site shows them (DEBUG or ``FORMS_DEMO_ENABLED``)."""
    if not (settings.DEBUG or settings.FORMS_DEMO_ENABLED):
        raise Http404
    # Without JavaScript the page itself carries what the script would otherwise fill in.
    attribution = {name: request.GET.get(name, "")[:255] for name in ATTRIBUTION_FIELDS}
    attribution["page_url"] = request.build_absolute_uri()[:2048]
    attribution["referrer"] = request.headers.get("Referer", "")[:2048]
    response = render(
        request,
        "website/demo.html",
        {**_center(), "form_token": form_token_issue(), "attribution": attribution},
    )
    response["Cache-Control"] = "no-store"
    return response
