"""The outbox: plan messages with the submission, hand them to Celery after commit, deliver
each exactly once.

- Planning happens in the submission's transaction (``followups_plan``), so a stored submission
  always has its messages, and a rolled-back one has none.
- The broker only says "look now". The relay (``outbox_relay_pass``, looped by the
  ``outbox_relay`` command beside the workers) hands committed, due rows to Celery within a
  poll interval, so a form post never waits on the broker (decision 37); ``outbox_sweep`` (beat,
  every few seconds) does the same as the fallback, hands over again rows the broker lost, and
  recovers claims whose worker died.
- ``outbox_deliver`` claims a row with a conditional UPDATE (a task delivered twice finds
  nothing to claim), re-checks consent, suppression, quiet hours and cancellation, sends outside
  any transaction, records the attempt, and marks the row sent once.
"""

from __future__ import annotations

import datetime
import logging
import os
import random
import threading
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from kombu import Connection

from apps.followups.models import Channel, OutboxAttempt, OutboxMessage, SequenceStep
from apps.followups.optout import contact_is_suppressed
from apps.followups.quiet_hours import (
    next_allowed_send_time,
    recipient_time_zone,
    within_staffed_hours,
)
from apps.followups.rendering import message_render
from apps.followups.selectors import PlannedStep, sequence_steps_active
from apps.followups.transports import TransportError, transport_send
from apps.leads.models import Person, Submission
from apps.leads.selectors import submission_for_followups

logger = logging.getLogger(__name__)

Topic = OutboxMessage.Topic
Recipient = OutboxMessage.Recipient
Status = OutboxMessage.Status
Queue = OutboxMessage.Queue
ERROR_MAX_CHARS = 500
STAFF_TOPICS = (Topic.STAFF_ALERT, Topic.ESCALATION)


# --- Planning ---------------------------------------------------------------------------------


def _staff_routes() -> list[tuple[str, str]]:
    """(channel, recipient) pairs a staff alert goes to: the admissions inbox always, the
    on-call phone and the chat webhook when configured."""
    routes: list[tuple[str, str]] = [(Channel.EMAIL, Recipient.ADMISSIONS_INBOX)]
    if settings.ON_CALL_SMS_NUMBER:
        routes.append((Channel.SMS, Recipient.ON_CALL_SMS))
    if settings.CHAT_WEBHOOK_URL:
        routes.append((Channel.WEBHOOK, Recipient.CHAT_WEBHOOK))
    return routes


def _escalation_routes(*, due_at: datetime.datetime) -> list[tuple[str, str]]:
    if within_staffed_hours(now=due_at):
        routes: list[tuple[str, str]] = [(Channel.EMAIL, Recipient.MANAGER)]
        if settings.MANAGER_SMS_NUMBER:
            routes.append((Channel.SMS, Recipient.MANAGER))
        return routes
    # Outside staffed hours the on-call phone is the one that gets answered.
    if settings.ON_CALL_SMS_NUMBER:
        return [(Channel.SMS, Recipient.ON_CALL_SMS), (Channel.EMAIL, Recipient.MANAGER)]
    return [(Channel.EMAIL, Recipient.MANAGER)]


def _person_step_allowed(step: PlannedStep, submission: Submission, person: Person) -> bool:
    if step.channel == Channel.SMS:
        # Texts only with TCPA consent, whatever the purpose.
        return bool(person.phone and person.consent_sms)
    if not (submission.email or person.email):
        return False
    if step.purpose == SequenceStep.Purpose.DRIP:
        return person.consent_email
    # A confirmation or the book they asked for is a direct reply: email is always allowed.
    return True


def followups_plan(
    *, submission_id: int, submission: Submission | None = None
) -> list[OutboxMessage]:
    """Plan every message a new submission needs, in the caller's transaction.

    Staff alerts (alerts queue, due now), the escalation due at the SLA, and the steps of the
    form's active sequences the person may receive. Spam gets nothing. The relay hands the
    messages due now to Celery once the transaction has committed (nothing is handed over from
    the request). ``submission``, when the caller has it in hand, saves reading it back.
    """
    if submission is None or submission.pk != submission_id:
        submission = submission_for_followups(submission_id=submission_id)
    if submission is None or submission.is_spam:
        return []
    now = submission.received_at
    person = submission.person
    rows: list[OutboxMessage] = []

    def plan(topic: str, channel: str, recipient: str, template: str, due_at: datetime.datetime,
             *, queue: str, step: PlannedStep | None = None) -> None:  # fmt: skip
        rows.append(
            OutboxMessage(
                topic=topic,
                channel=channel,
                recipient=recipient,
                template=template,
                queue=queue,
                submission=submission,
                person=person,
                step_id=step.pk if step else None,
                due_at=due_at,
                max_attempts=settings.OUTBOX_MAX_ATTEMPTS,
                dedupe_key=(
                    f"{submission.pk}:{topic}:{channel}:{recipient}:{step.pk if step else 0}"
                ),
            )
        )

    for channel, recipient in _staff_routes():
        plan(Topic.STAFF_ALERT, channel, recipient, "staff_alert", now, queue=Queue.ALERTS)
    if submission.sla_due_at is not None:
        for channel, recipient in _escalation_routes(due_at=submission.sla_due_at):
            plan(Topic.ESCALATION, channel, recipient, "escalation", submission.sla_due_at,
                 queue=Queue.ALERTS)  # fmt: skip
    for step in sequence_steps_active(kind=submission.kind):
        if _person_step_allowed(step, submission, person):
            topic = {
                SequenceStep.Purpose.CONFIRMATION: Topic.CONFIRMATION,
                SequenceStep.Purpose.BOOK_DELIVERY: Topic.BOOK_DELIVERY,
                SequenceStep.Purpose.DRIP: Topic.DRIP,
            }[SequenceStep.Purpose(step.purpose)]
            due_at = now + datetime.timedelta(minutes=step.delay_minutes)
            plan(topic, step.channel, Recipient.PERSON, step.template, due_at,
                 queue=Queue.FOLLOWUPS, step=step)  # fmt: skip
    OutboxMessage.objects.bulk_create(rows)
    return rows


# --- Hand-off and sweep -----------------------------------------------------------------------

# Redis serves a queue's lower priority numbers first (kombu's priority steps 0, 3, 6, 9; a
# message without a priority is 0). Marketing drips go last, so a confirmation, the direct reply
# a person asked for, never waits behind a drip backlog on the same queue (docs/decisions.md).
DRIP_PRIORITY = 9


class _HandOffBroker:
    """This process's own broker connection for hand-offs, one per thread, opened after fork.

    Celery's shared producer pool waits on a hung Redis for the worker's socket timeout and
    reconnects (4-6 s a hand-over, measured); this one gives up after
    ``OUTBOX_HANDOFF_TIMEOUT_SECONDS`` without retrying: the rows are in the database, and the
    relay or the sweep hands over what did not get through.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def connection(self) -> Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid() or local.connection is None:
            from asana_leads.celery import app

            options: dict[str, object] = {}
            if str(app.conf.broker_url or "").startswith(("redis://", "rediss://")):
                timeout = settings.OUTBOX_HANDOFF_TIMEOUT_SECONDS
                options = {
                    "socket_timeout": timeout,
                    "socket_connect_timeout": timeout,
                    "max_retries": 0,
                }
            # A connection inherited through fork belongs to the parent: left alone, not closed.
            local.connection = app.connection_for_write(transport_options=options)
            local.pid = os.getpid()
        connection: Connection = local.connection
        return connection


_broker = _HandOffBroker()


def outbox_hand_over(*, messages: Iterable[tuple[int, str]], drips: Collection[int] = ()) -> int:
    """Tell Celery to deliver these (id, queue) rows now; the ids in ``drips`` go at the lowest
    priority. Never raises, and a broker that is down or hung costs at most one
    ``OUTBOX_HANDOFF_TIMEOUT_SECONDS``: the rows not handed over are marked un-handed and the
    relay (or the sweep) hands them over again once the broker is back."""
    from apps.followups.tasks import outbox_deliver as outbox_deliver_task

    pending = list(messages)
    last = set(drips)
    handed: int = 0
    try:
        connection = _broker.connection()
        for message_id, queue in pending:
            # ``connection`` is apply_async's own option (the stubs omit it).
            options: dict[str, Any] = {"connection": connection}
            if message_id in last:
                options["priority"] = DRIP_PRIORITY
            outbox_deliver_task.apply_async(args=(message_id,), queue=queue, retry=False, **options)
            handed += 1
    except Exception as exc:  # noqa: BLE001 - any broker failure: the sweep takes over
        # One failure is enough to know: a hung broker must cost one timeout, not one per
        # message.
        logger.warning("outbox hand-off failed (%s); retried later", type(exc).__name__)
    lost = [pk for pk, _ in pending[handed:]]
    if lost:
        try:
            OutboxMessage.objects.filter(pk__in=lost, status=Status.PENDING).update(handed_at=None)
        except Exception as exc:  # noqa: BLE001 - re-handed after OUTBOX_REHAND_SECONDS anyway
            logger.warning("could not mark un-handed rows: %s", type(exc).__name__)
    return handed


def _queues_holding_messages(queues: Collection[str]) -> set[str]:
    """Which of these broker queues still hold messages waiting for a worker. A broker that
    cannot say is taken as holding none: handing over again is the safe side."""
    busy: set[str] = set()
    try:
        channel: Any = _broker.connection().default_channel
        for name in queues:
            # Declaring is idempotent and answers the count (every priority of the queue).
            if channel.queue_declare(queue=name, passive=False).message_count:
                busy.add(name)
    except Exception as exc:  # noqa: BLE001 - the hand-over reports the broker's state
        logger.warning("outbox sweep could not read queue sizes: %s", type(exc).__name__)
        return set()
    return busy


@dataclass(frozen=True)
class RelayReport:
    claimed: int  # due rows this pass stamped as handed over
    handed: int  # of those, how many the broker took (the rest wait for the next pass)


def outbox_relay_pass(*, limit: int = 500) -> RelayReport:
    """Hand to Celery the due rows nobody has handed over yet, and say how many went.

    Idle, it is one indexed read and takes no lock. With rows waiting it claims up to ``limit``
    of them, oldest due first, by stamping ``handed_at`` in one short transaction; on
    PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets several relays (one per worker machine) run
    without handing a row twice, and on SQLite the write lock serialises them. The hand-over
    follows the commit; rows the broker refuses are un-stamped by ``outbox_hand_over`` for the
    next pass.
    """
    now = timezone.now()
    waiting = OutboxMessage.objects.filter(
        status=Status.PENDING, due_at__lte=now, handed_at__isnull=True
    )
    if not waiting.exists():
        return RelayReport(claimed=0, handed=0)
    return _claim_and_hand_over(waiting, limit=limit, now=now)


def _claim_and_hand_over(
    candidates: QuerySet[OutboxMessage], *, limit: int, now: datetime.datetime
) -> RelayReport:
    """Stamp up to ``limit`` of these rows (oldest due first) as handed over, skipping rows
    another relay or sweep holds, commit, then hand them to Celery."""
    with transaction.atomic():
        rows = list(
            candidates.select_for_update(skip_locked=True)
            .order_by("due_at")
            .values_list("pk", "queue", "topic")[:limit]
        )
        if rows:
            OutboxMessage.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(handed_at=now)
    return RelayReport(claimed=len(rows), handed=_hand_over_rows(rows) if rows else 0)


@dataclass(frozen=True)
class SweepReport:
    recovered: int
    handed: int


def outbox_sweep(*, limit: int = 500) -> SweepReport:
    """Recover claims whose lease ran out, then hand over due rows that were never handed
    over, or were handed over long enough ago that the broker must have lost them."""
    now = timezone.now()
    expired = OutboxMessage.objects.filter(status=Status.SENDING, lease_expires_at__lt=now)
    # A message whose worker died on every attempt (it crashes the worker, or always outlives
    # the time limit) ends failed and visible, instead of being retried forever.
    exhausted = expired.filter(attempts__gte=F("max_attempts")).update(
        status=Status.FAILED,
        last_error="the worker stopped during every attempt (lease expired)",
        lease_expires_at=None,
        updated_at=now,
    )
    if exhausted:
        logger.error("outbox: %d messages failed: their worker died on every attempt", exhausted)
    recovered = expired.update(
        status=Status.PENDING, lease_expires_at=None, handed_at=None, updated_at=now
    )
    if recovered:
        logger.warning("outbox: %d claims outlived their lease; retrying", recovered)
    # Rows no relay has handed over (none is running, or it is behind).
    handed = outbox_relay_pass(limit=limit).handed
    due = OutboxMessage.objects.filter(status=Status.PENDING, due_at__lte=now)
    stale = due.filter(
        handed_at__lt=now - datetime.timedelta(seconds=settings.OUTBOX_REHAND_SECONDS)
    )
    # A row handed over long ago is lost only if its queue has run dry without it: while the
    # queue still holds messages it may simply be waiting its turn behind a backlog, and
    # handing it over again would only add duplicates to that backlog.
    stale_queues = set(stale.order_by().values_list("queue", flat=True).distinct())
    waiting = _queues_holding_messages(stale_queues) if stale_queues else set()
    lost_queues = stale_queues - waiting
    if lost_queues and handed < limit:
        handed += _claim_and_hand_over(
            stale.filter(queue__in=lost_queues), limit=limit - handed, now=now
        ).handed
    return SweepReport(recovered=recovered, handed=handed)


def _hand_over_rows(rows: Iterable[tuple[int, str, str]]) -> int:
    listed = list(rows)
    return outbox_hand_over(
        messages=[(pk, queue) for pk, queue, _ in listed],
        drips=[pk for pk, _, topic in listed if topic == Topic.DRIP],
    )


# --- Delivery ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recheck:
    """What the send-time check decided: go, skip (with why), or wait until ``defer_until``."""

    skip_reason: str = ""
    defer_until: datetime.datetime | None = None
    address: str = ""


def _staff_address(message: OutboxMessage) -> str:
    if message.recipient == Recipient.ADMISSIONS_INBOX:
        return ",".join(settings.ADMISSIONS_ALERT_EMAILS)
    if message.recipient == Recipient.ON_CALL_SMS:
        return str(settings.ON_CALL_SMS_NUMBER)
    if message.recipient == Recipient.CHAT_WEBHOOK:
        return str(settings.CHAT_WEBHOOK_URL)
    if message.recipient == Recipient.MANAGER:
        if message.channel == Channel.SMS:
            return str(settings.MANAGER_SMS_NUMBER)
        return ",".join(settings.MANAGER_ALERT_EMAILS)
    return message.address


def _recheck(  # noqa: PLR0911, PLR0912 - one rule per branch reads better than a table
    message: OutboxMessage, submission: Submission | None, now: datetime.datetime
) -> Recheck:
    if message.recipient == Recipient.ADDRESS:
        if not message.address:
            return Recheck(skip_reason="no address")
        if message.topic == Topic.SMS_REPLY:
            # Answers a text this number just sent (STOP/HELP/START): due at once (carriers
            # expect it within minutes), so no consent, suppression or quiet-hours check.
            return Recheck(address=message.address)
        is_sms = message.channel == Channel.SMS
        if contact_is_suppressed(
            email=None if is_sms else message.address, phone=message.address if is_sms else None
        ):
            return Recheck(skip_reason="address suppressed")
        return Recheck(address=message.address)
    if (
        message.topic == Topic.ESCALATION
        and submission is not None
        and (submission.first_touched_at is not None)
    ):
        return Recheck(skip_reason="touched before the SLA ran out")
    if message.topic in STAFF_TOPICS or message.recipient != Recipient.PERSON:
        address = _staff_address(message)
        return Recheck(address=address) if address else Recheck(skip_reason="route not configured")
    person = message.person
    if person is None or submission is None:
        return Recheck(skip_reason="person no longer exists")
    if person.do_not_contact:
        return Recheck(skip_reason="do not contact")
    if message.channel == Channel.SMS:
        phone = person.phone or ""
        if not (phone and person.consent_sms):
            return Recheck(skip_reason="no text-message consent")
        if contact_is_suppressed(phone=phone):
            return Recheck(skip_reason="phone suppressed")
        zone = recipient_time_zone(state=submission.state, phone=phone)
        allowed = next_allowed_send_time(now=now, zone=zone)
        if allowed > now:
            return Recheck(defer_until=allowed)
        return Recheck(address=phone)
    email = submission.email or person.email or ""
    if not email:
        return Recheck(skip_reason="no email address")
    if contact_is_suppressed(email=email):
        return Recheck(skip_reason="email suppressed")
    if message.topic == Topic.DRIP:
        if not person.consent_email:
            return Recheck(skip_reason="no email consent")
        if submission.status != Submission.Status.NEW or submission.assignee_id is not None:
            # A lead staff are working is no longer a marketing audience.
            return Recheck(skip_reason="lead is being worked")
    return Recheck(address=email)


def _backoff(attempts: int) -> datetime.timedelta:
    base = settings.OUTBOX_BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1)
    capped = min(base, settings.OUTBOX_BACKOFF_CAP_SECONDS)
    # Jitter spreads retries so a provider outage does not end in a thundering herd.
    return datetime.timedelta(seconds=capped * random.uniform(0.5, 1.0))  # noqa: S311


def _attempt(
    message_id: int, started: datetime.datetime, began: float, outcome: str, *,
    error: str = "", provider_id: str = "", worker: str = "",
) -> None:  # fmt: skip
    OutboxAttempt.objects.create(
        message_id=message_id,
        started_at=started,
        duration_ms=int((time.monotonic() - began) * 1000),
        outcome=outcome,
        error=error[:ERROR_MAX_CHARS],
        provider_message_id=provider_id[:255],
        worker=worker[:100],
    )


def outbox_deliver(*, message_id: int, worker: str = "") -> str:
    """Deliver one outbox row at most once; returns what happened (for logs and tests).

    Idempotent: a second delivery of the same task finds the row not pending and returns.
    """
    now = timezone.now()
    claimed = OutboxMessage.objects.filter(
        pk=message_id, status=Status.PENDING, due_at__lte=now
    ).update(
        status=Status.SENDING,
        attempts=F("attempts") + 1,
        lease_expires_at=now + datetime.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS),
        updated_at=now,
    )
    if claimed != 1:
        return "not-claimed"
    message = OutboxMessage.objects.select_related("person").get(pk=message_id)
    submission = (
        submission_for_followups(submission_id=message.submission_id)
        if message.submission_id
        else None
    )
    began = time.monotonic()
    check = _recheck(message, submission, now)
    if check.defer_until is not None:
        OutboxMessage.objects.filter(pk=message_id, status=Status.SENDING).update(
            status=Status.PENDING,
            due_at=check.defer_until,
            attempts=F("attempts") - 1,
            lease_expires_at=None,
            handed_at=None,
            updated_at=now,
        )
        return "deferred"
    if check.skip_reason:
        # The outcome and its attempt row commit together: whoever sees one sees the other.
        with transaction.atomic():
            OutboxMessage.objects.filter(pk=message_id, status=Status.SENDING).update(
                status=Status.SKIPPED, skip_reason=check.skip_reason, lease_expires_at=None,
                updated_at=now,
            )  # fmt: skip
            _attempt(message_id, now, began, OutboxAttempt.Outcome.SKIPPED,
                     error=check.skip_reason, worker=worker)  # fmt: skip
        return "skipped"
    try:
        content = message_render(message=message, submission=submission)
        provider_id = transport_send(
            channel=message.channel, to=check.address, content=content, message_id=message_id
        )
    except TransportError as exc:
        return _failed(message, now, began, str(exc), permanent=exc.permanent, worker=worker)
    except Exception as exc:  # a bug in rendering or a backend: retry, never crash-loop
        logger.exception("outbox delivery of %s raised", message_id)
        return _failed(message, now, began, type(exc).__name__, permanent=False, worker=worker)
    with transaction.atomic():
        OutboxMessage.objects.filter(pk=message_id, status=Status.SENDING).update(
            status=Status.SENT,
            sent_at=timezone.now(),
            provider_message_id=provider_id[:255],
            last_error="",
            lease_expires_at=None,
            updated_at=timezone.now(),
        )
        _attempt(message_id, now, began, OutboxAttempt.Outcome.SENT, provider_id=provider_id,
                 worker=worker)  # fmt: skip
    return "sent"


def _failed(
    message: OutboxMessage, now: datetime.datetime, began: float, error: str, *,
    permanent: bool, worker: str,
) -> str:  # fmt: skip
    exhausted = message.attempts >= message.max_attempts
    final = permanent or exhausted
    with transaction.atomic():
        OutboxMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
            status=Status.FAILED if final else Status.PENDING,
            due_at=message.due_at if final else now + _backoff(message.attempts),
            last_error=error[:ERROR_MAX_CHARS],
            lease_expires_at=None,
            handed_at=None,
            updated_at=now,
        )
        outcome = OutboxAttempt.Outcome.PERMANENT if final else OutboxAttempt.Outcome.TRANSIENT
        _attempt(message.pk, now, began, outcome, error=error, worker=worker)
    logger.warning("outbox %s %s: %s", message.pk, "failed" if final else "will retry", error)
    return "failed" if final else "retrying"


# --- Staff actions ------------------------------------------------------------------------------


def outbox_retry(*, message_ids: Iterable[int]) -> int:
    """Give failed (or skipped) messages a fresh set of attempts, due now (admin action)."""
    now = timezone.now()
    ids = list(message_ids)
    count = OutboxMessage.objects.filter(
        pk__in=ids, status__in=[Status.FAILED, Status.SKIPPED]
    ).update(
        status=Status.PENDING, attempts=0, due_at=now, handed_at=None, skip_reason="",
        updated_at=now,
    )  # fmt: skip
    retried = list(
        OutboxMessage.objects.filter(pk__in=ids, status=Status.PENDING).values_list(
            "pk", "queue", "topic"
        )
    )
    transaction.on_commit(lambda: _hand_over_rows(retried))
    return count


def escalations_cancel(*, submission_id: int) -> int:
    """A lead was touched: its pending escalations will not be needed."""
    return OutboxMessage.objects.filter(
        submission_id=submission_id, topic=Topic.ESCALATION, status=Status.PENDING
    ).update(status=Status.CANCELLED, updated_at=timezone.now())


def person_followups_cancel(
    *,
    person_id: int,
    reason: str,
    topics: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
) -> int:
    """Cancel the person's own pending messages (of these topics, on these channels): they
    unsubscribed or opted out. Staff alerts about them are not theirs to stop."""
    pending = OutboxMessage.objects.filter(
        person_id=person_id, recipient=Recipient.PERSON, status=Status.PENDING
    )
    if topics is not None:
        pending = pending.filter(topic__in=list(topics))
    if channels is not None:
        pending = pending.filter(channel__in=list(channels))
    return pending.update(
        status=Status.CANCELLED, skip_reason=reason[:100], updated_at=timezone.now()
    )
