"""Answers for a plain HTML form post (no JavaScript): a page or a redirect instead of JSON.

A browser that submits a ``<form>`` itself asks for ``text/html`` and never for
``application/json``; the kit's script, API clients and the CMS's server ask for JSON (or send
``*/*``, or nothing) and keep the contract's JSON answers byte for byte. For the browser:

- 201 becomes ``303 See Other`` to the site's thank-you page (``FORMS_THANK_YOU_URL``) with
  ``reference``, ``form`` and, when the words read like a crisis, ``crisis=1``; or to the
  built-in page at ``/forms/thank-you/`` when no site page is set.
- 400 (and a 413 naming a card field) becomes a page listing each problem under the field's
  label, with a link back to the form.
- 413, 415, 422, 429 and 503 become short pages saying what happened and what to do, with
  the same status and ``Retry-After``.

A middleware rather than a renderer, so that the 413 the body-limit middleware answers before
any view runs gets the same treatment as the view's own answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.loader import render_to_string
from django.urls import reverse

FORM_KINDS = {
    "contact-requests": "contact",
    "insurance-verifications": "verification",
    "book-signups": "book",
}
FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "message": "Message",
    "preferred_contact": "Best way to reach you",
    "best_time": "Best time to reach you",
    "consent_email": "Email consent",
    "consent_sms": "Text message consent",
    "consent_calls": "Phone call consent",
    "consent_text": "Consent wording",
    "page_url": "Page address",
    "referrer": "Referring page",
    "seeking_treatment_for": "Who is the treatment for",
    "patient_first_name": "Patient's first name",
    "patient_last_name": "Patient's last name",
    "date_of_birth": "Date of birth",
    "insurance_provider": "Insurance provider",
    "member_id": "Member ID",
    "group_number": "Group number",
    "policy_holder_name": "Policy holder's name",
    "policy_holder_dob": "Policy holder's date of birth",
    "relationship_to_policy_holder": "Relationship to the policy holder",
    "state": "State",
    "treatment_interest": "Treatment of interest",
    "card_front": "Insurance card (front)",
    "card_back": "Insurance card (back)",
}
STATUS_TITLES = {
    400: "Please check the form",
    413: "That was too large to send",
    415: "This form could not be read",
    422: "This form was already sent",
    429: "Too many attempts",
    503: "We could not save your request just now",
}
STATUS_ADVICE = {
    400: "Nothing was sent yet. Go back, fix the items below and send the form again.",
    413: "Nothing was sent. Go back and choose smaller photos (at most 10 MB each).",
    415: "Nothing was sent. Please go back and try again, or call us.",
    422: "Your first request was already received. If you changed something, please call us.",
    429: "Nothing was sent this time. Please wait a little and try again, or call us now.",
    503: "Nothing was sent. Please try again in a minute, or call us now.",
}
HTML_STATUSES = frozenset(STATUS_TITLES) | {201}
SAFE_SCHEMES = frozenset({"http", "https"})


def wants_html(request: HttpRequest) -> bool:
    """A browser's own form submission: it accepts ``text/html`` and never asks for JSON.

    ``*/*`` or no Accept at all (curl, server-to-server clients) keeps JSON, so nothing
    that spoke JSON before is answered differently now.
    """
    accept = request.headers.get("Accept", "").lower()
    media_types = {part.split(";", 1)[0].strip() for part in accept.split(",")}
    return "text/html" in media_types and "application/json" not in media_types


def _form_kind(request: HttpRequest) -> str | None:
    for name, kind in FORM_KINDS.items():
        if request.path == reverse(name):
            return kind
    return None


def _json_of(response: HttpResponseBase) -> Any:
    data = getattr(response, "data", None)  # a DRF Response keeps what it rendered
    if data is not None:
        return data
    try:
        return json.loads(getattr(response, "content", b"") or b"null")
    except ValueError:
        return None


def thank_you_location(*, reference: str, kind: str, crisis: bool) -> str:
    """Where a successful HTML post goes: the site's page when set, else the built-in one."""
    query = {"reference": reference, "form": kind}
    if crisis:
        query["crisis"] = "1"
    base = settings.FORMS_THANK_YOU_URL or reverse("website:thank-you")
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}{urlencode(query)}"


def _origin(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def back_link(request: HttpRequest) -> str | None:
    """The page the form sat on, for a "go back" link; never a page of another site.

    ``page_url`` (posted) is trusted only when it is on the origin that actually posted
    (``Origin`` or ``Referer``, which the visitor's browser sets and a page cannot forge), so
    a crafted post cannot make this site link to somewhere else. Else the ``Referer`` itself.
    """
    referer = request.headers.get("Referer", "")
    posting_origin = _origin(request.headers.get("Origin", "")) or _origin(referer)
    if posting_origin is None:
        return None
    # Only fields already parsed: a refused body (413, 415) is never read just for a link.
    posted = getattr(request, "_post", None)
    page_url = posted.get("page_url", "") if posted is not None else ""
    if isinstance(page_url, str) and page_url and _origin(page_url) == posting_origin:
        return page_url
    if _origin(referer) == posting_origin:
        return referer
    return f"{posting_origin}/"


def _problems(body: Any) -> list[dict[str, Any]]:
    """``[{"field", "label", "messages"}]`` from a DRF error body, form-wide rules first."""
    if not isinstance(body, Mapping):
        return []
    problems: list[dict[str, Any]] = [
        {"field": "", "label": "", "messages": _messages(body[key])}
        for key in ("non_field_errors", "detail")
        if key in body
    ]
    for field, errors in body.items():
        if field in {"non_field_errors", "detail"}:
            continue
        label = FIELD_LABELS.get(str(field), str(field).replace("_", " ").capitalize())
        problems.append({"field": str(field), "label": label, "messages": _messages(errors)})
    return problems


def _messages(errors: Any) -> list[str]:
    if isinstance(errors, list | tuple):
        return [str(error) for error in errors]
    if isinstance(errors, Mapping):
        return [str(error) for error in errors.values()]
    return [str(errors)]


def html_answer(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """The HTML answer for a browser's own form post, or ``response`` unchanged."""
    if response.status_code not in HTML_STATUSES:
        return response
    kind = _form_kind(request)
    if kind is None:
        return response
    body = _json_of(response)
    if response.status_code == 201:  # noqa: PLR2004
        if not isinstance(body, Mapping) or "reference" not in body:
            return response
        redirect = HttpResponse(status=303)
        redirect["Location"] = thank_you_location(
            reference=str(body["reference"]), kind=kind, crisis="crisis_resources" in body
        )
        redirect["Cache-Control"] = "no-store"
        return redirect
    page = HttpResponse(
        render_to_string(
            "forms/answer_error.html",
            {
                "title": STATUS_TITLES[response.status_code],
                "advice": STATUS_ADVICE[response.status_code],
                "problems": _problems(body),
                "back_url": back_link(request),
                "center_name": settings.CENTER_NAME,
                "center_phone": settings.CENTER_PHONE,
                "center_phone_href": re.sub(r"[^0-9+]", "", settings.CENTER_PHONE),
            },
            request=request,
        ),
        status=response.status_code,
        content_type="text/html; charset=utf-8",
    )
    page["Cache-Control"] = "no-store"
    page["X-Robots-Tag"] = "noindex"
    if response.has_header("Retry-After"):
        page["Retry-After"] = response["Retry-After"]
    return page


class HtmlAnswerMiddleware:
    """Turns the form endpoints' JSON answers into pages for browsers posting a plain form."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if request.method != "POST" or not wants_html(request):
            return response
        return html_answer(request, response)
