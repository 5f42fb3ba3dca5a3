"""The bodies the benchmark posts: what the website's forms send (contract v1), realistically sized.

Templates carry placeholders that ``post_json.lua`` fills per request (and ``fill`` here, for
the preflight and the query counter), so every post is a new person:
``__EMAIL__``, ``__PHONE__``, ``__PAYER__``, ``__N__``.
"""

from __future__ import annotations

import json
import re
from typing import Any

BASELINE_PATH = "/bench/baseline-leads/"
CONTACT_PATH = "/api/v1/contact-requests/"
VERIFICATION_PATH = "/api/v1/insurance-verifications/"
FLOOR_DRF_PATH = "/bench/floor/drf-only/"
FLOOR_VALIDATE_PATH = "/bench/floor/contact-validate-only/"
FLOOR_ONE_STATEMENT_PATH = "/bench/floor/contact-one-statement/"

# What people type: a misspelling (fuzzy match), a slug, a regional Blue, a plan name.
PAYERS = ("Signa", "aetna", "Blue Cross of Texas", "UHC Choice Plus")

USER_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

CONSENT_TEXT = (
    "By checking these boxes and submitting this form, I agree that Asana Recovery and its "
    "admissions team may contact me at the email address and phone number I provided, "
    "including by automated calls and text messages, about treatment options and my "
    "insurance benefits. Consent is not a condition of treatment. Message and data rates may "
    "apply; message frequency varies. Reply STOP to opt out of texts at any time. See our "
    "Privacy Policy and Notice of Privacy Practices."
)

_ATTRIBUTION = {
    "page_url": "https://asanarecovery.com/contact-us/",
    "referrer": "https://www.google.com/",
    "utm_source": "google",
    "utm_medium": "cpc",
    "utm_campaign": "orange-county-rehab-brand",
    "utm_term": "drug rehab near me",
    "utm_content": "ad-variant-b",
    "gclid": "Cj0KCQiA-bench-__N__-BhDfARIsAKQ",
    "fbclid": "",
}

_CONTACT: dict[str, Any] = {
    "first_name": "Jordan",
    "last_name": "Rivera",
    "email": "__EMAIL__",
    "phone": "__PHONE__",
    "message": (
        "Hi, I'm asking for my brother. He has been drinking heavily for about two years and "
        "finally said he wants help. We live in Irvine. Do you have a detox program, and how "
        "soon could he start? He works days, so evenings are better for a call."
    ),
    "preferred_contact": "phone",
    "best_time": "weekday evenings after 6pm",
    "consent_email": True,
    "consent_sms": True,
    "consent_calls": True,
    "consent_text": CONSENT_TEXT,
    "website": "",
    **_ATTRIBUTION,
}

_VERIFICATION: dict[str, Any] = {
    "first_name": "Jordan",
    "last_name": "Rivera",
    "email": "__EMAIL__",
    "phone": "__PHONE__",
    "seeking_treatment_for": "self",
    "date_of_birth": "1988-04-12",
    "insurance_provider": "__PAYER__",
    "member_id": "W__N__",
    "group_number": "0081234",
    "policy_holder_name": "Jordan Rivera",
    "policy_holder_dob": "1988-04-12",
    "relationship_to_policy_holder": "self",
    "state": "CA",
    "treatment_interest": "substance_use",
    "message": "Does my plan cover residential treatment?",
    "consent_email": True,
    "consent_sms": True,
    "consent_calls": True,
    "consent_text": CONSENT_TEXT,
    "website": "",
    **{**_ATTRIBUTION, "page_url": "https://asanarecovery.com/verify-insurance/"},
}

# Same body as the contact form: the baseline parses the same bytes and keeps a few fields.
TARGETS: dict[str, tuple[str, dict[str, Any]]] = {
    "baseline": (BASELINE_PATH, _CONTACT),
    "contact": (CONTACT_PATH, _CONTACT),
    "verification": (VERIFICATION_PATH, _VERIFICATION),
}
# Floors (``run.py --floors``), not targets: what a contact post would cost if the endpoint did
# only part of its work, to show how much of the ratio the framework alone takes.
FLOORS: dict[str, tuple[str, dict[str, Any]]] = {
    "floor_drf": (FLOOR_DRF_PATH, _CONTACT),
    "floor_validate": (FLOOR_VALIDATE_PATH, _CONTACT),
    "floor_one_statement": (FLOOR_ONE_STATEMENT_PATH, _CONTACT),
}
BODIES = {**TARGETS, **FLOORS}

_PLACEHOLDER = re.compile(r"__([A-Z]+)__")
THREAD_STRIDE = 400_000  # the same as post_json.lua


def template(kind: str) -> str:
    """The JSON body of ``kind`` with its placeholders, as wrk reads it."""
    return json.dumps(BODIES[kind][1], separators=(",", ":"))


# Valid Southern and Northern California area codes: each holds 800 x 10,000 numbers.
AREA_CODES = (949, 714, 657, 562, 310, 213, 626, 818, 909, 951, 760, 619, 858, 415, 510, 408)
NUMBERS_PER_AREA = 8_000_000


def phone(k: int) -> str:
    """A valid US number as people type it, unique per ``k`` < 128M: ``(949) 200-0001``."""
    area = AREA_CODES[k // NUMBERS_PER_AREA % len(AREA_CODES)]
    rest = k % NUMBERS_PER_AREA
    return f"({area}) {200 + rest // 10_000}-{rest % 10_000:04d}"


def fill(kind: str, k: int) -> str:
    """The body ``post_json.lua`` would send for sequence number ``k``."""
    values = {
        "N": str(k),
        "EMAIL": f"bench.{k}@example.org",
        "PHONE": phone(k),
        "PAYER": PAYERS[k % len(PAYERS)],
    }
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template(kind))
