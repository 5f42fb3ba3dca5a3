"""The three embeddable forms: what each snippet needs to render, in one place.

The same ``{% asana_form %}`` tag renders the demo page and the snippets in docs/website.md
(``manage.py forms_snippet``), so the documented markup is the markup that was tested.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from apps.intake.serializers import US_STATES
from apps.leads.models import Submission

FORM_KINDS = ("contact", "verification", "book")
# The placeholder origin of the snippets in docs/website.md.
DOCS_API_ORIGIN = "https://api.example.org"
SNIPPET_BLOCK = re.compile(
    r"(<!-- snippet:(?P<name>[a-z]+) -->\n```html\n)(?P<body>.*?)(\n```\n<!-- /snippet -->)",
    re.DOTALL,
)
ATTRIBUTION_FIELDS = (
    "page_url",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "gclid",
    "fbclid",
)
# The continental order people expect in a dropdown, territories last.
_TERRITORIES = ("DC", "PR", "GU", "VI", "AS", "MP")
STATES = (*sorted(US_STATES.difference(_TERRITORIES)), *_TERRITORIES)


def consent_wording(kind: str) -> dict[str, Any]:
    """The consent boxes' wording; ``text`` is exactly what is shown, sent as consent_text."""
    center = settings.CENTER_NAME
    if kind == "book":
        legend = "After the book (optional):"
        boxes = [
            {
                "name": "consent_email",
                "label": f"Email me occasional resources from {center}. Unsubscribe any time.",
            }
        ]
        note = "The book is sent either way. We never sell or share your details."
    else:
        legend = f"{center} may contact me about my inquiry by (optional):"
        boxes = [
            {
                "name": "consent_calls",
                "label": "Phone calls, including automated or prerecorded calls.",
            },
            {
                "name": "consent_sms",
                "label": "Text messages. Message and data rates may apply; reply STOP to "
                "opt out, HELP for help.",
            },
            {
                "name": "consent_email",
                "label": "Email, including follow-up and helpful resources.",
            },
        ]
        note = (
            "Consent is not a condition of treatment or of any purchase. "
            f"You can always call us at {settings.CENTER_PHONE} instead."
        )
    parts = [legend, *(box["label"] for box in boxes), note]
    text = re.sub(r"\s+", " ", " ".join(parts)).strip()
    return {"legend": legend, "boxes": boxes, "note": note, "text": text}


def form_context(
    kind: str,
    *,
    api_origin: str = "",
    prefix: str = "",
    form_token: str = "",
    attribution: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Everything the ``website/forms/<kind>.html`` template reads."""
    if kind not in FORM_KINDS:
        raise ValueError(f"Unknown form {kind!r}: use one of {', '.join(FORM_KINDS)}.")
    card_max_bytes = settings.INTAKE_MAX_CARD_BYTES
    return {
        "kind": kind,
        "api_origin": api_origin.rstrip("/"),
        "prefix": prefix,
        "form_token": form_token,
        "attribution": {name: (attribution or {}).get(name, "") for name in ATTRIBUTION_FIELDS},
        "consent": consent_wording(kind),
        "center_phone": settings.CENTER_PHONE,
        "center_phone_href": re.sub(r"[^0-9+]", "", settings.CENTER_PHONE),
        "states": STATES,
        "relationships": Submission.Relationship.choices,
        "treatment_interests": Submission.TreatmentInterest.choices,
        "card_max_bytes": card_max_bytes,
        "card_max_mb": card_max_bytes // (1024 * 1024),
    }


def script_tags(*, api_origin: str) -> str:
    """The two tags for the site's pages: the optional stylesheet and the script (versioned)."""
    origin = api_origin.rstrip("/")
    return (
        f'<link rel="stylesheet" href="{origin}{settings.STATIC_URL}website/asana-forms.v1.css">\n'
        f'<script src="{origin}{settings.STATIC_URL}website/asana-forms.v1.js" defer></script>'
    )


def snippet(name: str, *, api_origin: str) -> str:
    """The HTML of one form, or of the script tags (``name="script"``)."""
    if name == "script":
        return script_tags(api_origin=api_origin)
    return render_to_string(f"website/forms/{name}.html", form_context(name, api_origin=api_origin))


def docs_with_snippets(markdown: str) -> str:
    """``markdown`` with every ``<!-- snippet:NAME -->`` block holding the current snippet."""
    return SNIPPET_BLOCK.sub(
        lambda match: (
            match.group(1)
            + snippet(match.group("name"), api_origin=DOCS_API_ORIGIN).rstrip("\n")
            + match.group(4)
        ),
        markdown,
    )
