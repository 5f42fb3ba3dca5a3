"""The outbox: planned with the submission, delivered once, retried with backoff, never PHI."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.followups import services
from apps.followups.models import OutboxAttempt, OutboxMessage
from apps.leads.models import Submission
from tests.conftest import BOOK_PATH, CONTACT_PATH, VERIFICATION_PATH

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status


def _post(client: APIClient, path: str, body: dict[str, Any]) -> Submission:
    response = client.post(path, body, format="json")
    assert response.status_code == 201, response.content
    return Submission.objects.get(reference=response.json()["reference"])


def _planned(submission: Submission) -> set[tuple[str, str, str]]:
    return set(
        OutboxMessage.objects.filter(submission=submission).values_list(
            "topic", "channel", "recipient"
        )
    )


def _deliver_due(submission: Submission) -> dict[int, str]:
    due = OutboxMessage.objects.filter(
        submission=submission, status=Status.PENDING, due_at__lte=timezone.now()
    )
    return {m.pk: services.outbox_deliver(message_id=m.pk) for m in due}


def test_a_contact_request_plans_alert_escalation_and_confirmations(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    submission = _post(api_client, CONTACT_PATH, {**contact_body, "consent_sms": True})

    assert _planned(submission) == {
        ("staff_alert", "email", "admissions_inbox"),
        ("escalation", "email", "manager"),
        ("confirmation", "email", "person"),
        ("confirmation", "sms", "person"),
    }
    alert = OutboxMessage.objects.get(submission=submission, topic="staff_alert")
    assert alert.queue == "alerts"
    assert alert.due_at == submission.received_at
    escalation = OutboxMessage.objects.get(submission=submission, topic="escalation")
    assert escalation.due_at == submission.sla_due_at


def test_no_text_is_planned_without_sms_consent(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    submission = _post(api_client, CONTACT_PATH, {**contact_body, "consent_sms": False})

    assert ("confirmation", "sms", "person") not in _planned(submission)


def test_spam_plans_nothing(api_client: APIClient, contact_body: dict[str, Any]) -> None:
    submission = _post(api_client, CONTACT_PATH, {**contact_body, "website": "x"})

    assert _planned(submission) == set()


def test_a_book_signup_plans_the_book_and_drips_only_with_consent(
    api_client: APIClient, book_body: dict[str, Any]
) -> None:
    without = _post(api_client, BOOK_PATH, {**book_body, "consent_email": False})
    with_consent = _post(
        api_client, BOOK_PATH, {**book_body, "email": "b@example.org", "consent_email": True}
    )

    assert {t for t, _, _ in _planned(without)} == {"staff_alert", "book_delivery"}
    drips = OutboxMessage.objects.filter(submission=with_consent, topic="drip").order_by("due_at")
    delays = [(m.due_at - with_consent.received_at).days for m in drips]
    assert delays == [2, 5, 10]


def test_the_staff_alert_carries_no_phi(
    api_client: APIClient, verification_body: dict[str, Any]
) -> None:
    submission = _post(
        api_client,
        VERIFICATION_PATH,
        {**verification_body, "member_id": "ZZ4821MEMBER", "message": "ZZ secret words"},
    )

    results = _deliver_due(submission)

    assert set(results.values()) == {"sent"}
    alert = next(m for m in mail.outbox if m.to == settings.ADMISSIONS_ALERT_EMAILS)
    assert submission.reference in alert.body
    assert "Cigna" in alert.body
    assert f"/admin/leads/submission/{submission.pk}/change/" in alert.body
    everything = " ".join(
        [m.subject + m.body + "".join(str(a[0]) for a in m.alternatives) for m in mail.outbox]
    )
    for phi in ("ZZ4821MEMBER", "4821", "ZZ secret", "1988", "GRP-0042", "Okafor"):
        assert phi not in everything


def test_the_confirmation_email_has_a_one_click_unsubscribe(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    submission = _post(api_client, CONTACT_PATH, contact_body)

    _deliver_due(submission)

    confirmation = next(m for m in mail.outbox if m.to == ["dana.rivera@example.org"])
    assert submission.reference in confirmation.body
    assert "Dana" in confirmation.body
    assert confirmation.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert confirmation.extra_headers["List-Unsubscribe"].startswith("<http")


def test_a_task_delivered_twice_sends_once(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    submission = _post(api_client, CONTACT_PATH, contact_body)
    alert = OutboxMessage.objects.get(submission=submission, topic="staff_alert")

    first = services.outbox_deliver(message_id=alert.pk)
    second = services.outbox_deliver(message_id=alert.pk)

    assert (first, second) == ("sent", "not-claimed")
    assert len([m for m in mail.outbox if m.to == settings.ADMISSIONS_ALERT_EMAILS]) == 1
    alert.refresh_from_db()
    assert alert.status == Status.SENT
    assert alert.attempts == 1
    assert OutboxAttempt.objects.filter(message=alert).count() == 1


@override_settings(SMS_BACKEND="tests.followups.backends.FailingSmsBackend")
def test_transient_failures_back_off_then_end_failed(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    submission = _post(api_client, CONTACT_PATH, {**contact_body, "consent_sms": True})
    text = OutboxMessage.objects.get(submission=submission, topic="confirmation", channel="sms")
    moment = datetime.datetime(2026, 11, 25, 18, 0, tzinfo=datetime.UTC)  # 10:00 in California
    outcomes = []
    with time_machine.travel(moment, tick=False) as traveller:
        OutboxMessage.objects.filter(pk=text.pk).update(due_at=moment)
        for _ in range(text.max_attempts):
            outcomes.append(services.outbox_deliver(message_id=text.pk))
            text.refresh_from_db()
            if text.status == Status.PENDING:
                wait = text.due_at - timezone.now()
                assert datetime.timedelta(0) < wait <= datetime.timedelta(hours=1)
                traveller.move_to(text.due_at)
                # keep within the allowed hours: pretend it is still 10:00 local
                OutboxMessage.objects.filter(pk=text.pk).update(due_at=timezone.now())

    assert outcomes == ["retrying"] * (text.max_attempts - 1) + ["failed"]
    assert text.status == Status.FAILED
    assert "provider unavailable" in text.last_error
    assert OutboxAttempt.objects.filter(message=text).count() == text.max_attempts


@override_settings(SMS_BACKEND="tests.followups.backends.RefusingSmsBackend")
def test_a_permanent_failure_ends_failed_at_once(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    submission = _post(api_client, CONTACT_PATH, {**contact_body, "consent_sms": True})
    text = OutboxMessage.objects.get(submission=submission, topic="confirmation", channel="sms")
    noon = datetime.datetime(2026, 11, 25, 20, 0, tzinfo=datetime.UTC)
    OutboxMessage.objects.filter(pk=text.pk).update(due_at=noon)

    with time_machine.travel(noon, tick=False):
        outcome = services.outbox_deliver(message_id=text.pk)

    text.refresh_from_db()
    assert outcome == "failed"
    assert text.status == Status.FAILED
    assert text.attempts == 1


def test_a_failed_message_is_sent_after_a_retry(
    api_client: APIClient, contact_body: dict[str, Any], tmp_path: Path
) -> None:
    submission = _post(api_client, CONTACT_PATH, {**contact_body, "consent_sms": True})
    text = OutboxMessage.objects.get(submission=submission, topic="confirmation", channel="sms")
    noon = datetime.datetime(2026, 11, 25, 20, 0, tzinfo=datetime.UTC)
    OutboxMessage.objects.filter(pk=text.pk).update(due_at=noon, status=Status.FAILED,
                                                    attempts=6)  # fmt: skip

    with time_machine.travel(noon, tick=False), override_settings(SMS_FILE_PATH=str(tmp_path)):
        assert services.outbox_retry(message_ids=[text.pk]) == 1
        outcome = services.outbox_deliver(message_id=text.pk)

    assert outcome == "sent"
    sent = json.loads((tmp_path / f"{text.pk}.json").read_text())
    assert sent["to"] == "+19495550142"
    assert submission.reference in sent["body"]


def test_a_text_waits_for_the_recipients_morning(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    # No state on a contact form: the zone comes from the (New York) phone number.
    submission = _post(api_client, CONTACT_PATH, {**contact_body, "consent_sms": True,
                                                   "phone": "(212) 555-0142"})  # fmt: skip
    text = OutboxMessage.objects.get(submission=submission, topic="confirmation", channel="sms")
    late = datetime.datetime(2026, 11, 26, 3, 30, tzinfo=datetime.UTC)  # 22:30 in New York
    OutboxMessage.objects.filter(pk=text.pk).update(due_at=late)

    with time_machine.travel(late, tick=False):
        outcome = services.outbox_deliver(message_id=text.pk)

    text.refresh_from_db()
    assert outcome == "deferred"
    assert text.status == Status.PENDING
    assert text.attempts == 0
    # 8:00 in New York the next morning (EST, UTC-5)
    assert text.due_at == datetime.datetime(2026, 11, 26, 13, 0, tzinfo=datetime.UTC)


def test_staff_alerts_ignore_quiet_hours(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    late = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)  # 2 am in California
    with (
        time_machine.travel(late, tick=False),
        override_settings(ON_CALL_SMS_NUMBER="+19495550100"),
    ):
        submission = _post(api_client, CONTACT_PATH, contact_body)
        results = _deliver_due(submission)
        staff_text = OutboxMessage.objects.get(
            submission=submission, channel="sms", topic="staff_alert", recipient="on_call_sms"
        )

    assert results[staff_text.pk] == "sent"


def test_a_touch_before_the_sla_cancels_the_escalation(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    submission = _post(api_client, CONTACT_PATH, contact_body)

    assert services.escalations_cancel(submission_id=submission.pk) == 1
    escalation = OutboxMessage.objects.get(submission=submission, topic="escalation")
    assert escalation.status == Status.CANCELLED


def test_an_untouched_lead_escalates_to_the_manager(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    submission = _post(api_client, CONTACT_PATH, contact_body)
    escalation = OutboxMessage.objects.get(submission=submission, topic="escalation")

    with time_machine.travel(escalation.due_at + datetime.timedelta(seconds=1), tick=False):
        outcome = services.outbox_deliver(message_id=escalation.pk)

    assert outcome == "sent"
    (sent,) = [m for m in mail.outbox if m.to == settings.MANAGER_ALERT_EMAILS]
    assert submission.reference in sent.subject


def test_a_drip_waits_for_its_day(api_client: APIClient, book_body: dict[str, Any]) -> None:
    submission = _post(api_client, BOOK_PATH, {**book_body, "consent_email": True})
    drip = OutboxMessage.objects.filter(submission=submission, topic="drip").order_by("due_at")[0]

    assert services.outbox_deliver(message_id=drip.pk) == "not-claimed"


def test_the_sweep_hands_over_rows_the_broker_never_got(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    submission = _post(api_client, CONTACT_PATH, contact_body)
    OutboxMessage.objects.filter(submission=submission).update(handed_at=None)

    report = services.outbox_sweep()

    due_now = OutboxMessage.objects.filter(submission=submission, due_at__lte=timezone.now())
    assert report.handed == due_now.count() == 2
    assert all(m.handed_at is not None for m in due_now)
    assert services.outbox_sweep().handed == 0  # handed rows are not handed again at once


def test_the_sweep_recovers_a_claim_whose_worker_died(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    submission = _post(api_client, CONTACT_PATH, contact_body)
    alert = OutboxMessage.objects.get(submission=submission, topic="staff_alert")
    OutboxMessage.objects.filter(pk=alert.pk).update(
        status=Status.SENDING, lease_expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )

    report = services.outbox_sweep()

    alert.refresh_from_db()
    assert report.recovered == 1
    assert alert.status == Status.PENDING
    assert services.outbox_deliver(message_id=alert.pk) == "sent"


def test_a_staff_touch_records_first_touch_and_cancels_the_escalation(
    api_client: APIClient, contact_body: dict[str, Any], admin_user: Any
) -> None:
    from apps.leads.services import submission_touch

    submission = _post(api_client, CONTACT_PATH, contact_body)

    submission_touch(submission_id=submission.pk, actor_id=admin_user.pk)

    submission.refresh_from_db()
    assert submission.first_touched_at is not None
    escalation = OutboxMessage.objects.get(submission=submission, topic="escalation")
    assert escalation.status == Status.CANCELLED


def test_a_message_whose_worker_died_on_every_attempt_ends_failed(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    submission = _post(api_client, CONTACT_PATH, contact_body)
    alert = OutboxMessage.objects.get(submission=submission, topic="staff_alert")
    OutboxMessage.objects.filter(pk=alert.pk).update(
        status=Status.SENDING,
        attempts=alert.max_attempts,
        lease_expires_at=timezone.now() - datetime.timedelta(seconds=1),
    )

    report = services.outbox_sweep()

    alert.refresh_from_db()
    assert report.recovered == 0
    assert alert.status == Status.FAILED
    assert "lease expired" in alert.last_error


def test_a_lease_shorter_than_the_task_limit_is_refused_at_start_up() -> None:
    from apps.followups.checks import lease_outlives_task

    with override_settings(OUTBOX_LEASE_SECONDS=60, CELERY_TASK_TIME_LIMIT=120):
        errors = lease_outlives_task(None)

    assert [error.id for error in errors] == ["followups.E001"]
    assert lease_outlives_task(None) == []
