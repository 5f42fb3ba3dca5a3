"""Writes for people, their submissions and their consent.

The intake API calls ``submission_store`` inside its transaction; everything a submission needs
(person, submission, consent evidence, card image rows) is written there in a handful of round
trips, because database round trips, not Python, decide how many posts a second we take.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.leads.models import CardImage, Consent, ConsentWording, Person, Submission
from apps.leads.references import reference_new


@dataclass(frozen=True)
class ContactDetails:
    """Who wrote, normalized: email lowercased, phone in E.164."""

    first_name: str
    last_name: str
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class ConsentCapture:
    """The consent boxes as submitted, with the words shown beside them and where."""

    email: bool
    sms: bool
    calls: bool
    wording: str
    ip_address: str | None
    user_agent: str
    page_url: str


@dataclass(frozen=True)
class Attribution:
    """Where the visitor came from, as the form sent it."""

    page_url: str = ""
    referrer: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""
    gclid: str = ""
    fbclid: str = ""


@dataclass(frozen=True)
class StoredCard:
    """A card image already encrypted into the ``phi`` storage."""

    side: str
    storage_name: str
    content_type: str
    size_bytes: int


@dataclass(frozen=True)
class NewSubmission:
    """Everything intake decided about one post, ready to be written."""

    kind: str
    contact: ContactDetails
    consent: ConsentCapture
    attribution: Attribution
    received_at: datetime.datetime
    source_ip: str | None
    user_agent: str
    urgency: str = Submission.Urgency.ROUTINE
    crisis_signals: tuple[str, ...] = ()
    spam_reason: str = ""
    # Kind-specific columns of Submission (message, payer, member_id, ...), already validated.
    details: dict[str, Any] = field(default_factory=dict)
    cards: tuple[StoredCard, ...] = ()


def _sla_due_at(new: NewSubmission) -> datetime.datetime | None:
    minutes: dict[str, int] = settings.LEAD_SLA_MINUTES
    if new.kind == Submission.Kind.BOOK:
        return None  # a book signup is not a call-back request
    if new.urgency == Submission.Urgency.URGENT:
        return new.received_at + datetime.timedelta(minutes=minutes["urgent"])
    return new.received_at + datetime.timedelta(minutes=minutes[new.kind])


def person_find_or_create(
    *,
    contact: ContactDetails,
    attribution: Attribution,
    seen_at: datetime.datetime,
    is_inquiry: bool,
    consent: ConsentCapture | None = None,
) -> Person:
    """The person with this email or phone (email first), created if new.

    A returning person keeps the contact details first seen; blanks are filled in when no one
    else already owns that email or phone. Attribution: the first touch is set once, the latest
    on every submission. Channels ``consent`` grants are switched on in the same write (only
    revocations switch them off). Concurrent creates of the same person hit the unique
    constraints; the caller's transaction retry then finds the winner.
    """
    lookup = Q()
    if contact.email:
        lookup |= Q(email=contact.email)
    if contact.phone:
        lookup |= Q(phone=contact.phone)
    matches = list(Person.objects.filter(lookup)[:2])
    touch: dict[str, Any] = {
        "latest_touch_at": seen_at,
        "latest_utm_source": attribution.utm_source,
        "latest_utm_medium": attribution.utm_medium,
        "latest_utm_campaign": attribution.utm_campaign,
    }
    if consent is not None:
        for channel, granted in _channels(consent).items():
            if granted:
                touch[f"consent_{channel}"] = True
                touch[f"consent_{channel}_at"] = seen_at
    if not matches:
        return Person.objects.create(
            first_name=contact.first_name,
            last_name=contact.last_name,
            email=contact.email,
            phone=contact.phone,
            last_submission_at=seen_at,
            is_inquiry=is_inquiry,
            first_touch_at=seen_at,
            first_utm_source=attribution.utm_source,
            first_utm_medium=attribution.utm_medium,
            first_utm_campaign=attribution.utm_campaign,
            **touch,
        )
    by_email = [p for p in matches if contact.email and p.email == contact.email]
    person = by_email[0] if by_email else matches[0]
    other_ids = {p.pk for p in matches} - {person.pk}
    updates: dict[str, Any] = {"last_submission_at": seen_at, **touch}
    if person.email is None and contact.email and not other_ids:
        updates["email"] = contact.email
    if person.phone is None and contact.phone and not other_ids:
        updates["phone"] = contact.phone
    if not person.last_name and contact.last_name:
        updates["last_name"] = contact.last_name
    if is_inquiry and not person.is_inquiry:
        updates["is_inquiry"] = True
    for name, value in updates.items():
        setattr(person, name, value)
    person.save(update_fields=[*updates, "updated_at"])
    return person


def _channels(capture: ConsentCapture) -> dict[str, bool]:
    return {
        Consent.Channel.EMAIL: capture.email,
        Consent.Channel.SMS: capture.sms,
        Consent.Channel.CALLS: capture.calls,
    }


def consent_wording_record(*, text: str) -> ConsentWording | None:
    """The stored wording for this exact text (created once, named by its SHA-256)."""
    if not text:
        return None
    digest = hashlib.sha256(text.encode()).hexdigest()
    wording = ConsentWording(sha256=digest, text=text)
    # One round trip whether or not it exists; the wording is immutable, so no read-back.
    # (Not cached in the process: a row a cache believes in but the database lost would turn
    # every post into a foreign-key error, and a stored submission matters more.)
    ConsentWording.objects.bulk_create([wording], ignore_conflicts=True)
    return wording


def _consent_evidence_record(
    *, person: Person, submission: Submission, capture: ConsentCapture, at: datetime.datetime
) -> None:
    wording = consent_wording_record(text=capture.wording)
    Consent.objects.bulk_create(
        [
            Consent(
                person=person,
                submission=submission,
                channel=channel,
                action=Consent.Action.GRANTED if granted else Consent.Action.WITHHELD,
                source=Consent.Source.WEB_FORM,
                wording=wording,
                recorded_at=at,
                ip_address=capture.ip_address,
                user_agent=capture.user_agent[:512],
                page_url=capture.page_url,
            )
            for channel, granted in _channels(capture).items()
        ]
    )


@transaction.atomic(savepoint=False)  # intake's transaction is the unit; no savepoint round trips
def submission_store(*, new: NewSubmission) -> Submission:
    """Write one submission with its person, consent evidence and card images.

    Runs inside the caller's transaction (intake), so a failure anywhere stores nothing.
    The reference is random; a collision raises IntegrityError and the caller retries.
    """
    person = person_find_or_create(
        contact=new.contact,
        attribution=new.attribution,
        seen_at=new.received_at,
        is_inquiry=new.kind != Submission.Kind.BOOK,
        consent=new.consent,
    )
    submission = Submission.objects.create(
        reference=reference_new(),
        kind=new.kind,
        person=person,
        received_at=new.received_at,
        urgency=new.urgency,
        crisis_signals=list(new.crisis_signals),
        is_spam=bool(new.spam_reason),
        spam_reason=new.spam_reason,
        first_name=new.contact.first_name,
        last_name=new.contact.last_name,
        email=new.contact.email or "",
        phone=new.contact.phone or "",
        source_ip=new.source_ip,
        user_agent=new.user_agent[:512],
        sla_due_at=None if new.spam_reason else _sla_due_at(new),
        page_url=new.attribution.page_url,
        referrer=new.attribution.referrer,
        utm_source=new.attribution.utm_source,
        utm_medium=new.attribution.utm_medium,
        utm_campaign=new.attribution.utm_campaign,
        utm_term=new.attribution.utm_term,
        utm_content=new.attribution.utm_content,
        gclid=new.attribution.gclid,
        fbclid=new.attribution.fbclid,
        **new.details,
    )
    _consent_evidence_record(
        person=person, submission=submission, capture=new.consent, at=new.received_at
    )
    if new.cards:
        CardImage.objects.bulk_create(
            [
                CardImage(
                    submission=submission,
                    side=card.side,
                    storage_name=card.storage_name,
                    content_type=card.content_type,
                    size_bytes=card.size_bytes,
                )
                for card in new.cards
            ]
        )
    return submission


@transaction.atomic
def consent_revoke(
    *,
    person_id: int,
    channels: tuple[str, ...],
    source: str,
    recorded_by_id: int | None = None,
    ip_address: str | None = None,
    user_agent: str = "",
) -> int:
    """Record that a person withdrew consent on these channels, and switch them off at once.

    Evidence first (one ``revoked`` Consent row per channel), then the person's current
    decision. Idempotent in effect: revoking twice leaves the channel off, with two rows of
    evidence. Returns how many channels were switched off.
    """
    return _consent_decision_record(
        person_id=person_id,
        channels=channels,
        action=Consent.Action.REVOKED,
        source=source,
        wording="",
        recorded_by_id=recorded_by_id,
        ip_address=ip_address,
        user_agent=user_agent,
    )


@transaction.atomic
def submission_touch(*, submission_id: int, actor_id: int | None) -> None:
    """Staff touched this lead: record when (the first touch measures speed to lead) and tell
    the follow-ups side, which stops pending escalations."""
    from apps.leads.signals import submission_touched

    now = timezone.now()
    Submission.objects.filter(pk=submission_id, first_touched_at__isnull=True).update(
        first_touched_at=now
    )
    Submission.objects.filter(pk=submission_id).update(last_touched_at=now)
    submission_touched.send(sender=Submission, submission_id=submission_id, actor_id=actor_id)


@transaction.atomic
def consent_grant(
    *,
    person_id: int,
    channels: tuple[str, ...],
    source: str,
    wording: str = "",
    recorded_by_id: int | None = None,
    ip_address: str | None = None,
    user_agent: str = "",
) -> None:
    """Record that a person gave consent on these channels outside a form (texting START, staff
    hearing it on the phone), and switch them on: evidence first, then the current decision."""
    _consent_decision_record(
        person_id=person_id,
        channels=channels,
        action=Consent.Action.GRANTED,
        source=source,
        wording=wording,
        recorded_by_id=recorded_by_id,
        ip_address=ip_address,
        user_agent=user_agent,
    )


def _consent_decision_record(
    *,
    person_id: int,
    channels: tuple[str, ...],
    action: str,
    source: str,
    wording: str,
    recorded_by_id: int | None,
    ip_address: str | None,
    user_agent: str,
) -> int:
    """Evidence first (one Consent row per channel), then the person's current decision.
    Returns how many channels changed."""
    person = Person.objects.select_for_update().get(pk=person_id)
    now = timezone.now()
    stored_wording = consent_wording_record(text=wording)
    Consent.objects.bulk_create(
        [
            Consent(
                person=person,
                channel=channel,
                action=action,
                source=source,
                wording=stored_wording,
                recorded_at=now,
                ip_address=ip_address,
                user_agent=user_agent[:512],
                recorded_by_id=recorded_by_id,
            )
            for channel in channels
        ]
    )
    on = action == Consent.Action.GRANTED
    changed = [channel for channel in channels if getattr(person, f"consent_{channel}") != on]
    for channel in channels:
        setattr(person, f"consent_{channel}", on)
        setattr(person, f"consent_{channel}_at", now)
    person.save(
        update_fields=[f"consent_{c}" for c in channels]
        + [f"consent_{c}_at" for c in channels]
        + ["updated_at"]
    )
    return len(changed)


def submission_status_move(
    *, submission_id: int, from_status: str, to_status: str, at: datetime.datetime
) -> bool:
    """Move a submission's pipeline status if it is still ``from_status``.

    A conditional UPDATE: two coordinators changing the same lead at once cannot both win; the
    loser gets False and re-reads. The pipeline's rules live with the admissions team's service.
    """
    return bool(
        Submission.objects.filter(pk=submission_id, status=from_status).update(
            status=to_status, status_changed_at=at
        )
    )


def submission_assignee_set(*, submission_id: int, assignee_id: int | None) -> None:
    """Give a lead to a coordinator (or to nobody)."""
    Submission.objects.filter(pk=submission_id).update(assignee_id=assignee_id)


def submission_assignee_move(
    *, submission_id: int, from_assignee_id: int | None, to_assignee_id: int | None
) -> bool:
    """Give a lead to a coordinator (or to nobody) if it is still ``from_assignee_id``'s.

    A conditional UPDATE, like ``submission_status_move``: two coordinators taking the same
    lead at once cannot both get it; the loser gets False and re-reads.
    """
    return bool(
        Submission.objects.filter(pk=submission_id, assignee_id=from_assignee_id).update(
            assignee_id=to_assignee_id
        )
    )


def submission_payer_resolve(*, submission_ids: list[int], payer_id: int, payer_slug: str) -> int:
    """Resolve waiting submissions to a payer a human chose (score 100) and re-key their member
    ID blind index, which is keyed by payer slug once a payer is known (as intake keys it)."""
    from apps.privacy.crypto import blind_index

    resolved = 0
    waiting = Submission.objects.filter(pk__in=submission_ids, payer__isnull=True).only(
        "pk", "member_id"
    )
    for submission in waiting:
        member_id = "".join(submission.member_id.split()).upper()
        resolved += Submission.objects.filter(pk=submission.pk, payer__isnull=True).update(
            payer_id=payer_id,
            payer_match_score=100.0,
            member_id_index=blind_index("member", member_id, payer_slug),
        )
    return resolved
