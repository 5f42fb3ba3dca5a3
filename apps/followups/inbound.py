"""What people send back: texts to our number, unsubscribe clicks, and revocations staff hear.

Inbound texts (Twilio's webhook, ``views.sms_inbound``) are stored once per provider message id
(a redelivered webhook finds its row and does nothing) and read by ``revocation.inbound_text_read``:

- **STOP** and the other opt-out keywords, and free-text revocations ("stop texting me", "no me
  escriban"), opt the number out of every future text at once: the number goes on the
  suppression list (reason ``sms_stop``), a ``revoked`` consent (source ``sms_reply``) is
  recorded for each person with that number, their pending texts are cancelled, and exactly one
  confirmation is planned (the one the carriers and the FCC allow; a second STOP from a number
  already opted out gets none). A revocation that names only calls ("don't call me, text me")
  withdraws the calls consent and nothing else.
- **START / UNSTOP / YES** lift the number's ``sms_stop`` suppression and record a ``granted``
  consent (source ``sms_reply``) for each person with that number. Why a grant, and not only the
  lifted suppression: our texts need ``consent_sms`` at send time, and the STOP switched it off.
  Texting START to our number is the person's own express request to receive texts again
  (TCPA: prior express consent may be given by the consumer in writing, a text included), so a
  ``granted`` row with the keyword as its wording is defensible evidence. A suppression for any
  other reason (staff heard a revocation, an imported list) is *not* lifted by a text: it was
  someone's documented decision, so the sender gets the help text instead and staff decide.
- **HELP / INFO** get the help text (center name, phone, "Reply STOP to opt out. Msg & data
  rates may apply."), whatever the number's status: a help answer is not a solicitation.
- Anything else is stored (encrypted) and not answered automatically.

Replies are outbox rows (topic ``sms_reply``, recipient ``address``) on the ``alerts`` queue,
handed to Celery after commit: the FCC wants the opt-out confirmation within five minutes, and a
drip backlog on the ``followups`` queue must not delay it. The send-time recheck lets these
replies through to a suppressed number and outside quiet hours: they answer a text the person
has just sent.

Inbound texts need ``TWILIO_AUTH_TOKEN``: without it the webhook cannot check Twilio's signature
and refuses every request (403). If Twilio's own opt-out handling (Advanced Opt-Out, on by default
for US long codes) is enabled, Twilio answers STOP/START/HELP itself and blocks our reply to an
opted-out number (error 21610, a permanent failure): turn it off in the Messaging Service, or
expect those replies to end ``failed``; either way the opt-out itself is recorded here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.followups.models import Channel, InboundText, OutboxMessage, Suppression
from apps.followups.optout import suppression_add, unsubscribe_token_read
from apps.followups.revocation import Intent, inbound_text_read
from apps.followups.services import outbox_hand_over, person_followups_cancel
from apps.intake.crisis import crisis_assess
from apps.leads.contact import InvalidPhoneNumber, phone_normalize
from apps.leads.models import Consent, Person
from apps.leads.selectors import (
    people_with_contact,
    person_email_addresses,
    person_get,
    submission_latest_for_person,
)
from apps.leads.services import consent_grant, consent_revoke

logger = logging.getLogger(__name__)

CONSENT_CHANNELS = frozenset(Consent.Channel.values)
SMS_STOP_CONFIRMATION = "sms_stop_confirmation"
SMS_START_CONFIRMATION = "sms_start"
SMS_HELP = "sms_help"
INBOUND_TEXT_ALERT = "inbound_text_alert"
INBOUND_TEXT_ALERT_URGENT = "inbound_text_alert_urgent"
# START from a number another suppression holds: nothing lifted, the help text sent.
START_HELD = "start_held"


@dataclass(frozen=True)
class InboundOutcome:
    """What handling one inbound text did (for the view's log line and for tests)."""

    action: str
    duplicate: bool = False
    reply_id: int | None = None


def _phone_or_raw(text: str) -> str:
    """E.164 when the sender is a phone number; short codes and the like are kept as sent."""
    try:
        return phone_normalize(text)
    except InvalidPhoneNumber:
        return text.strip()[:20]


def _reply_plan(*, to: str, template: str, provider_message_id: str) -> OutboxMessage:
    """Plan one text back to ``to``; the dedupe key ties it to the inbound message, so a
    redelivered webhook cannot plan a second reply."""
    now = timezone.now()
    reply = OutboxMessage.objects.create(
        topic=OutboxMessage.Topic.SMS_REPLY,
        channel=Channel.SMS,
        queue=OutboxMessage.Queue.ALERTS,
        recipient=OutboxMessage.Recipient.ADDRESS,
        address=to,
        template=template,
        dedupe_key=f"sms_reply:{provider_message_id}",
        due_at=now,
        handed_at=now,
        max_attempts=settings.OUTBOX_MAX_ATTEMPTS,
    )
    handover = [(reply.pk, str(reply.queue))]
    transaction.on_commit(lambda: outbox_hand_over(messages=handover))
    return reply


def _person_messages_cancel(*, person_id: int, channels: Iterable[str], reason: str) -> int:
    return person_followups_cancel(person_id=person_id, channels=channels, reason=reason)


def _consent_grant_by_text(*, person_id: int, keyword: str) -> None:
    """The person asked by text to receive texts again: a ``granted`` consent, the keyword as
    its wording (TCPA: texting START is an express request)."""
    consent_grant(
        person_id=person_id,
        channels=(Consent.Channel.SMS,),
        source=Consent.Source.SMS_REPLY,
        wording=f"Texted {keyword} to {settings.CENTER_NAME} to receive text messages again.",
    )


def _phone_opt_out(*, phone: str, channels: tuple[str, ...]) -> bool:
    """Withdraw ``channels`` for everyone at ``phone``; when texts are among them, suppress the
    number and cancel pending texts. Returns whether the number was not suppressed before, so
    that only the first opt-out is confirmed (one confirmation, as the carriers allow)."""
    newly_suppressed = False
    if Consent.Channel.SMS in channels:
        newly_suppressed = not Suppression.objects.filter(
            kind=Suppression.Kind.PHONE, value=phone
        ).exists()
        suppression_add(
            kind=Suppression.Kind.PHONE,
            value=phone,
            reason=Suppression.Reason.SMS_STOP,
            source="sms_reply",
        )
    for person_id in people_with_contact(phone=phone).values_list("pk", flat=True):
        consent_revoke(person_id=person_id, channels=channels, source=Consent.Source.SMS_REPLY)
        if Consent.Channel.SMS in channels:
            _person_messages_cancel(person_id=person_id, channels=[Channel.SMS], reason="sms stop")
    return newly_suppressed


def _phone_opt_in(*, phone: str, keyword: str) -> bool:
    """Lift the number's STOP and record the grant; False when another suppression (staff,
    import, revocation) holds the number, which a text does not lift."""
    if (
        Suppression.objects.filter(kind=Suppression.Kind.PHONE, value=phone)
        .exclude(reason=Suppression.Reason.SMS_STOP)
        .exists()
    ):
        return False
    Suppression.objects.filter(
        kind=Suppression.Kind.PHONE, value=phone, reason=Suppression.Reason.SMS_STOP
    ).delete()
    for person_id in people_with_contact(phone=phone).values_list("pk", flat=True):
        _consent_grant_by_text(person_id=person_id, keyword=keyword)
    return True


@transaction.atomic
def inbound_text_receive(*, provider_message_id: str, from_phone: str, body: str) -> InboundOutcome:
    """Store one inbound text and act on it (opt out, opt in, help), exactly once.

    The provider's message id is unique: a redelivered webhook, or two deliveries racing, find
    the stored row and change nothing. The text, the opt-out and the planned reply commit
    together, so a failure leaves nothing half-done and the redelivery does it all.
    """
    phone = _phone_or_raw(from_phone)
    reading = inbound_text_read(body)
    try:
        # A savepoint: the duplicate's IntegrityError must not poison the outer transaction.
        with transaction.atomic():
            inbound = InboundText.objects.create(
                from_phone=phone,
                body=body,
                provider_message_id=provider_message_id,
                action=str(reading.intent),
            )
    except IntegrityError:
        return InboundOutcome(action="duplicate", duplicate=True)

    action, template = str(reading.intent), ""
    if reading.intent in (Intent.OPT_OUT, Intent.REVOCATION):
        if _phone_opt_out(phone=phone, channels=reading.channels):
            template = SMS_STOP_CONFIRMATION
    elif reading.intent == Intent.OPT_IN:
        if _phone_opt_in(phone=phone, keyword=reading.keyword):
            template = SMS_START_CONFIRMATION
        else:
            action, template = START_HELD, SMS_HELP
    elif reading.intent == Intent.HELP:
        template = SMS_HELP
    else:
        _staff_alert_for_text(phone=phone, body=body, provider_message_id=provider_message_id)
    reply = (
        _reply_plan(to=phone, template=template, provider_message_id=provider_message_id)
        if template
        else None
    )
    if action != inbound.action:
        InboundText.objects.filter(pk=inbound.pk).update(action=action)
    return InboundOutcome(action=action, reply_id=reply.pk if reply else None)


def _staff_alert_for_text(*, phone: str, body: str, provider_message_id: str) -> None:
    """A text that is not a keyword ("I relapsed, call me") is a person reaching out: alert
    admissions like a new submission, urgent when it reads like a crisis. The alert names the
    person's latest reference, never the text."""
    person = people_with_contact(phone=phone).first()
    submission = submission_latest_for_person(person_id=person.pk) if person is not None else None
    urgent = crisis_assess(body).is_crisis
    now = timezone.now()
    routes = [(Channel.EMAIL, OutboxMessage.Recipient.ADMISSIONS_INBOX)]
    if settings.ON_CALL_SMS_NUMBER:
        routes.append((Channel.SMS, OutboxMessage.Recipient.ON_CALL_SMS))
    rows = OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                topic=OutboxMessage.Topic.STAFF_ALERT,
                channel=channel,
                recipient=recipient,
                template=INBOUND_TEXT_ALERT_URGENT if urgent else INBOUND_TEXT_ALERT,
                queue=OutboxMessage.Queue.ALERTS,
                submission=submission,
                person=person,
                due_at=now,
                handed_at=now,
                dedupe_key=f"inbound:{provider_message_id}:{channel}"[:200],
            )
            for channel, recipient in routes
        ]
    )
    handover = [(row.pk, str(row.queue)) for row in rows]
    transaction.on_commit(lambda: outbox_hand_over(messages=handover))


def _person_email_addresses(person: Person) -> set[str]:
    return person_email_addresses(person_id=person.pk)


@dataclass(frozen=True)
class UnsubscribeTarget:
    """Whom an unsubscribe link names, as its page may show them."""

    person_id: int
    email: str
    unsubscribed: bool


def _email_unsubscribed(person: Person, addresses: set[str]) -> bool:
    return not person.consent_email and all(
        Suppression.objects.filter(kind=Suppression.Kind.EMAIL, value=address).exists()
        for address in addresses
    )


def unsubscribe_target(*, token: str) -> UnsubscribeTarget | None:
    """The person an email unsubscribe token names and whether they are already unsubscribed;
    None when the token is not ours, is not for email, or names nobody (a read: no writes)."""
    read = unsubscribe_token_read(token)
    if read is None or read[1] != Channel.EMAIL:
        return None
    person = person_get(person_id=read[0])
    if person is None:
        return None
    addresses = _person_email_addresses(person)
    return UnsubscribeTarget(
        person_id=person.pk,
        email=person.email or next(iter(sorted(addresses)), ""),
        unsubscribed=_email_unsubscribed(person, addresses),
    )


@transaction.atomic
def unsubscribe_by_token(*, token: str, ip_address: str | None, user_agent: str) -> bool:
    """Honour a one-click unsubscribe (RFC 8058) from a signed link, at once and idempotently.

    Records a ``revoked`` email consent (source ``unsubscribe_link``, with time, IP and user
    agent), puts the person's email addresses on the suppression list, and cancels their pending
    drips; confirmations already sent are history. A second click changes nothing. Returns False
    when the token is not ours or names nobody.
    """
    read = unsubscribe_token_read(token)
    if read is None or read[1] != Channel.EMAIL:
        return False
    # Locked: two clicks at once (a scanner and a person) must record one revocation.
    person = Person.objects.select_for_update().filter(pk=read[0]).first()
    if person is None:
        return False
    addresses = _person_email_addresses(person)
    if _email_unsubscribed(person, addresses):
        return True
    consent_revoke(
        person_id=person.pk,
        channels=(Consent.Channel.EMAIL,),
        source=Consent.Source.UNSUBSCRIBE_LINK,
        ip_address=ip_address,
        user_agent=user_agent,
    )
    for address in addresses:
        suppression_add(
            kind=Suppression.Kind.EMAIL,
            value=address,
            reason=Suppression.Reason.UNSUBSCRIBE,
            source="unsubscribe_link",
        )
    person_followups_cancel(
        person_id=person.pk, topics=[OutboxMessage.Topic.DRIP], reason="unsubscribed"
    )
    return True


@transaction.atomic
def consent_revocation_record_by_staff(
    *, person_id: int, channels: tuple[str, ...], actor_id: int
) -> None:
    """Record a revocation staff heard (on the phone, in person), for these channels.

    A ``revoked`` consent per channel (source ``staff``, ``recorded_by`` the staff member), the
    person's email addresses (``email``) and phone (``sms``) on the suppression list (reason
    ``revoked``: a later START text does not lift it), and their pending messages on those
    channels cancelled. ``calls`` has no suppression of its own: we place no automated calls,
    and the calls consent itself is what staff check. Raises ``ValueError`` for an unknown
    channel and ``Person.DoesNotExist`` for an unknown person.
    """
    unknown = set(channels) - CONSENT_CHANNELS
    if unknown or not channels:
        raise ValueError(f"unknown consent channels: {sorted(unknown)}")
    consent_revoke(
        person_id=person_id,
        channels=channels,
        source=Consent.Source.STAFF,
        recorded_by_id=actor_id,
    )
    person = Person.objects.get(pk=person_id)
    if Consent.Channel.EMAIL in channels:
        for address in _person_email_addresses(person):
            suppression_add(
                kind=Suppression.Kind.EMAIL,
                value=address,
                reason=Suppression.Reason.REVOKED,
                source="staff",
            )
    if Consent.Channel.SMS in channels and person.phone:
        suppression_add(
            kind=Suppression.Kind.PHONE,
            value=person.phone,
            reason=Suppression.Reason.REVOKED,
            source="staff",
        )
    message_channels = [c for c in channels if c in (Channel.EMAIL, Channel.SMS)]
    if message_channels:
        _person_messages_cancel(
            person_id=person_id, channels=message_channels, reason="consent revoked (staff)"
        )
    logger.info("consent revoked by staff: person %s, channels %s", person_id, ",".join(channels))
