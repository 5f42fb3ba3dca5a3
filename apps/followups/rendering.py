"""Turning an outbox row into the words that go out, at send time.

The context holds only what a message may carry: first name, reference, form, payer,
in-network, urgency and links. Nothing from the encrypted fields is ever read here, so no
template can leak PHI, however it is edited.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.urls import reverse

from apps.followups.models import Channel, OutboxMessage
from apps.followups.optout import unsubscribe_url
from apps.followups.transports import RenderedMessage
from apps.leads.models import Submission

TEMPLATE_DIR = "followups"
SMS_MAX_CHARS = 480  # three segments at most


def _context(message: OutboxMessage, submission: Submission | None) -> dict[str, Any]:
    context: dict[str, Any] = {
        "center_name": settings.CENTER_NAME,
        "center_phone": settings.CENTER_PHONE,
    }
    if submission is not None:
        payer = submission.payer
        context |= {
            "reference": submission.reference,
            "kind": submission.kind,
            "form": submission.get_kind_display(),
            "first_name": submission.first_name,
            "payer_name": payer.name if payer else "",
            "in_network": payer.in_network if payer else None,
            "urgent": submission.urgency == Submission.Urgency.URGENT,
            "urgency": submission.get_urgency_display(),
            "admin_url": settings.PUBLIC_BASE_URL
            + reverse("admin:leads_submission_change", args=[submission.pk]),
            "sla_minutes": _sla_minutes(submission),
        }
    if message.recipient == OutboxMessage.Recipient.PERSON and message.person_id:
        context["unsubscribe_url"] = unsubscribe_url(person_id=message.person_id)
    if message.topic == OutboxMessage.Topic.BOOK_DELIVERY and submission is not None:
        from apps.books.services import book_download_url  # type: ignore[import-not-found,unused-ignore]

        context["book_url"] = book_download_url(submission_id=submission.pk)
        context["book_link_hours"] = settings.BOOK_LINK_MAX_AGE_HOURS
    return context


def _sla_minutes(submission: Submission) -> int:
    if submission.sla_due_at is None:
        return 0
    return int((submission.sla_due_at - submission.received_at).total_seconds() // 60)


def _render(name: str, context: dict[str, Any], *, required: bool = True) -> str:
    try:
        return render_to_string(f"{TEMPLATE_DIR}/{name}", context).strip()
    except TemplateDoesNotExist:
        if required:
            raise
        return ""


def message_render(*, message: OutboxMessage, submission: Submission | None) -> RenderedMessage:
    """The subject and bodies of ``message`` for its channel."""
    context = _context(message, submission)
    if message.channel == Channel.EMAIL:
        headers: dict[str, str] = {}
        if "unsubscribe_url" in context:
            # RFC 8058 one-click: mail clients POST to this URL without asking again.
            headers["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return RenderedMessage(
            subject=" ".join(_render(f"{message.template}.subject.txt", context).split()),
            text=_render(f"{message.template}.txt", context),
            html=_render(f"{message.template}.html", context, required=False),
            headers=headers,
        )
    text = " ".join(_render(f"{message.template}.sms.txt", context).split())
    return RenderedMessage(subject="", text=text[:SMS_MAX_CHARS])
