"""Receiving a form post: decide what it means, store it in one transaction, announce it.

The view hands over validated contract data; this module resolves the payer, looks for crisis
language, catches spam, encrypts card images into PHI storage, and writes everything through
``apps.leads.services.submission_store``. ``submission_stored`` is sent inside the transaction,
so the follow-ups app plans its messages atomically with the submission.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.intake.card_images import PreparedCard
from apps.intake.crisis import CRISIS_RESOURCES, crisis_assess
from apps.intake.exceptions import IdempotencyKeyReused
from apps.intake.models import IdempotencyKey
from apps.intake.signals import submission_stored
from apps.leads.models import Submission
from apps.leads.services import (
    Attribution,
    ConsentCapture,
    ContactDetails,
    NewSubmission,
    StoredCard,
    submission_store,
)
from apps.payers.selectors import payer_match
from apps.privacy.crypto import blind_index
from apps.privacy.phi_files import phi_file_delete, phi_file_save

logger = logging.getLogger(__name__)

STORE_ATTEMPTS = 3
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


@dataclass(frozen=True)
class RequestContext:
    """What the request itself says about the post (not what the person typed)."""

    source_ip: str | None
    user_agent: str
    idempotency_key: str | None = None
    fingerprint: str = ""
    # Its render-time token says the form was sent faster than a human could fill it.
    filled_too_fast: bool = False


@dataclass(frozen=True)
class Receipt:
    """The answer to give: the first answer again when this is an idempotent replay."""

    body: dict[str, Any]
    status: int
    submission_id: int | None
    replayed: bool = False


def request_fingerprint(*, endpoint: str, data: Any) -> str:
    """SHA-256 of the request's fields (and file contents), order-independent, so that a retry
    of the same body is recognized however the client re-encodes it."""
    canonical: dict[str, Any] = {}
    items = data.lists() if hasattr(data, "lists") else dict(data).items()
    for name, value in items:
        values = value if isinstance(value, list) else [value]
        canonical[name] = [_fingerprint_value(v) for v in values]
    blob = json.dumps([endpoint, canonical], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _fingerprint_value(value: Any) -> Any:
    if hasattr(value, "chunks"):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file_sha256": digest.hexdigest()}
    return value


def _next_steps(kind: str, *, urgent: bool) -> str:
    phone = settings.CENTER_PHONE
    if urgent:
        return (
            "We have your message and an admissions coordinator is being alerted now. "
            f"If you are in danger, call or text 988 or call 911. Our team: {phone}."
        )
    if kind == Submission.Kind.VERIFICATION:
        return (
            "Thank you. We are checking your benefits now; an admissions coordinator will call "
            f"you with what your plan covers. Quote your reference, or call us at {phone}."
        )
    if kind == Submission.Kind.BOOK:
        return "Thank you. Your free book is on its way: check your inbox in a few minutes."
    return (
        "Thank you for reaching out. An admissions coordinator will contact you soon. "
        f"If you would like to talk now, call us at {phone}."
    )


def _receipt_body(submission: Submission, *, crisis: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference": submission.reference,
        "received_at": submission.received_at.isoformat().replace("+00:00", "Z"),
        "next_steps": _next_steps(submission.kind, urgent=crisis),
    }
    if crisis:
        body["crisis_resources"] = CRISIS_RESOURCES
    return body


def _replay(*, endpoint: str, context: RequestContext) -> Receipt | None:
    if not context.idempotency_key:
        return None
    stored = IdempotencyKey.objects.filter(endpoint=endpoint, key=context.idempotency_key).first()
    if stored is None:
        return None
    if stored.request_fingerprint != context.fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request body."
        )
    return Receipt(
        body=stored.response_body,
        status=stored.response_status,
        submission_id=stored.submission_id,
        replayed=True,
    )


def _details(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The kind-specific Submission columns, payer resolved and member ID indexed."""
    if kind == Submission.Kind.CONTACT:
        return {
            "message": data["message"],
            "preferred_contact": data.get("preferred_contact", ""),
            "best_time": data.get("best_time", ""),
        }
    if kind == Submission.Kind.BOOK:
        return {}
    match = payer_match(text=data["insurance_provider"])
    member_id = data["member_id"]
    # The same member at the same payer, however they spaced or cased it.
    payer_key = match.slug or data["insurance_provider"].strip().casefold()
    return {
        "message": data.get("message", ""),
        "seeking_treatment_for": data["seeking_treatment_for"],
        "patient_first_name": data.get("patient_first_name", ""),
        "patient_last_name": data.get("patient_last_name", ""),
        "date_of_birth": data["date_of_birth"],
        "insurance_provider_text": data["insurance_provider"],
        "payer": match.payer,
        "payer_match_score": match.score,
        "member_id": member_id,
        "member_id_index": blind_index("member", "".join(member_id.split()).upper(), payer_key),
        "group_number": data.get("group_number", ""),
        "policy_holder_name": data.get("policy_holder_name", ""),
        "policy_holder_dob": data.get("policy_holder_dob"),
        "relationship_to_policy_holder": data.get("relationship_to_policy_holder", ""),
        "state": data.get("state", ""),
        "treatment_interest": data.get("treatment_interest", ""),
    }


def _store_cards(data: dict[str, Any]) -> tuple[StoredCard, ...]:
    stored: list[StoredCard] = []
    try:
        for side in ("front", "back"):
            card: PreparedCard | None = data.get(f"card_{side}")
            if card is None:
                continue
            name = phi_file_save(data=card.data, folder="cards")
            stored.append(
                StoredCard(
                    side=side,
                    storage_name=name,
                    content_type=card.content_type,
                    size_bytes=len(card.data),
                )
            )
    except Exception:
        _discard_cards(tuple(stored))
        raise
    return tuple(stored)


def _discard_cards(cards: tuple[StoredCard, ...]) -> None:
    for card in cards:
        try:
            phi_file_delete(name=card.storage_name)
        except OSError:
            logger.warning("could not delete an unreferenced card image file")


def submission_receive(*, kind: str, data: dict[str, Any], context: RequestContext) -> Receipt:
    """Store one validated form post and say what to answer.

    One transaction: person, submission, consent evidence, card rows, the idempotency record
    and whatever ``submission_stored`` receivers write. A unique-constraint race (the same new
    person posting twice at once, the same Idempotency-Key, a reference collision) retries the
    whole transaction, which then finds the winner's rows.
    """
    endpoint = kind
    replay = _replay(endpoint=endpoint, context=context)
    if replay is not None:
        return replay

    texts = [data.get("message", ""), data.get("best_time", "")]
    assessment = crisis_assess(*texts)
    spam_reason = (
        Submission.SpamReason.HONEYPOT
        if data.get("website")
        else Submission.SpamReason.TOO_FAST
        if context.filled_too_fast
        else ""
    )
    new = NewSubmission(
        kind=kind,
        contact=ContactDetails(
            first_name=data["first_name"],
            last_name=data.get("last_name", ""),
            email=data.get("email") or None,
            phone=data.get("phone") or None,
        ),
        consent=ConsentCapture(
            email=data["consent_email"],
            sms=data["consent_sms"],
            calls=data["consent_calls"],
            wording=data.get("consent_text", ""),
            ip_address=context.source_ip,
            user_agent=context.user_agent,
            page_url=data.get("page_url", ""),
        ),
        attribution=Attribution(**{name: data.get(name, "") for name in ATTRIBUTION_FIELDS}),
        received_at=timezone.now(),
        source_ip=context.source_ip,
        user_agent=context.user_agent,
        urgency=(Submission.Urgency.URGENT if assessment.is_crisis else Submission.Urgency.ROUTINE),
        crisis_signals=tuple(str(signal) for signal in assessment.signals),
        spam_reason=spam_reason,
        details=_details(kind, data),
    )
    cards = _store_cards(data) if kind == Submission.Kind.VERIFICATION else ()
    new = dataclasses.replace(new, cards=cards)
    try:
        return _store_with_retries(
            new=new, endpoint=endpoint, context=context, crisis=assessment.is_crisis
        )
    except BaseException:
        _discard_cards(cards)
        raise


def _store_with_retries(
    *, new: NewSubmission, endpoint: str, context: RequestContext, crisis: bool
) -> Receipt:
    for attempt in range(1, STORE_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                replay = _replay(endpoint=endpoint, context=context)
                if replay is not None:
                    # Another request with this key won the race; our card files are spares.
                    _discard_after_commit(new.cards)
                    return replay
                submission = submission_store(new=new)
                body = _receipt_body(submission, crisis=crisis)
                if context.idempotency_key:
                    IdempotencyKey.objects.create(
                        endpoint=endpoint,
                        key=context.idempotency_key,
                        request_fingerprint=context.fingerprint,
                        response_status=201,
                        response_body=body,
                        submission=submission,
                    )
                submission_stored.send(
                    sender=Submission,
                    submission_id=submission.pk,
                    submission=submission,
                    kind=submission.kind,
                    is_spam=submission.is_spam,
                    is_urgent=crisis,
                )
            return Receipt(body=body, status=201, submission_id=submission.pk)
        except IntegrityError:
            if attempt == STORE_ATTEMPTS:
                raise
            logger.info("submission store raced (attempt %d); retrying", attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _discard_after_commit(cards: tuple[StoredCard, ...]) -> None:
    if cards:
        transaction.on_commit(lambda: _discard_cards(cards))


def idempotency_keys_purge(*, older_than: datetime.timedelta | None = None) -> int:
    """Forget Idempotency-Keys past their retention (retries come within minutes, not days)."""
    age = older_than or datetime.timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - age).delete()
    return deleted
