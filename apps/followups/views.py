"""The public opt-out endpoints: the one-click unsubscribe page and Twilio's inbound-text webhook.

Both are CSRF-exempt by design, and each is authorized by something else: the unsubscribe link
by its signed token (a mail client's RFC 8058 one-click POST carries no CSRF token), the webhook
by Twilio's request signature. Neither page shows or logs PHI.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from apps.followups.inbound import inbound_text_receive, unsubscribe_by_token, unsubscribe_target
from apps.intake.request_origin import client_ip, user_agent

logger = logging.getLogger(__name__)

TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MESSAGE_SID_MAX_CHARS = 64
MASK = "•••"


def email_mask(email: str) -> str:
    """``d•••@example.org``: enough for the owner to recognise, not enough to harvest."""
    local, _, domain = email.partition("@")
    if not local or not domain:
        return ""
    return f"{local[0]}{MASK}@{domain}"


def _page(
    request: HttpRequest, template: str, status: int = 200, **context: object
) -> HttpResponse:
    response = render(
        request,
        f"followups/{template}",
        {"center_name": settings.CENTER_NAME, "center_phone": settings.CENTER_PHONE, **context},
        status=status,
    )
    # The token in the URL is a credential: keep the page out of indexes and referrers.
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirmation page and changes nothing (mail scanners prefetch links); POST,
    from that page or a mail client's ``List-Unsubscribe=One-Click``, unsubscribes at once."""
    if request.method == "POST":
        done = unsubscribe_by_token(
            token=token, ip_address=client_ip(request), user_agent=user_agent(request)
        )
        if not done:
            return _page(request, "unsubscribe_invalid.html", status=404)
        return _page(request, "unsubscribe_done.html")
    target = unsubscribe_target(token=token)
    if target is None:
        return _page(request, "unsubscribe_invalid.html", status=404)
    if target.unsubscribed:
        return _page(request, "unsubscribe_done.html")
    return _page(request, "unsubscribe.html", masked_email=email_mask(target.email))


def _twilio_signature_valid(request: HttpRequest) -> bool:
    """Twilio signs the URL it was configured with plus the POST parameters, with the auth
    token. We rebuild that URL from ``PUBLIC_BASE_URL``, since behind a proxy the host and
    scheme Django sees are not the ones Twilio called."""
    from twilio.request_validator import RequestValidator

    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}"
    return bool(RequestValidator(token).validate(url, request.POST, signature))


@csrf_exempt
@require_POST
def sms_inbound(request: HttpRequest) -> HttpResponse:
    """Twilio's inbound-text webhook: 403 unless signed with ``TWILIO_AUTH_TOKEN`` (so inbound
    texts need it set), else store and act on the text and answer an empty TwiML response;
    any reply goes through the outbox."""
    if not _twilio_signature_valid(request):
        return HttpResponseForbidden()
    message_sid = request.POST.get("MessageSid", "").strip()
    sender = request.POST.get("From", "").strip()
    if not message_sid or len(message_sid) > MESSAGE_SID_MAX_CHARS or not sender:
        return HttpResponseBadRequest()
    outcome = inbound_text_receive(
        provider_message_id=message_sid, from_phone=sender, body=request.POST.get("Body", "")
    )
    # The action only: never the number or the words.
    logger.info("inbound text %s: %s", message_sid, outcome.action or "none")
    return HttpResponse(TWIML_EMPTY, content_type="text/xml")
