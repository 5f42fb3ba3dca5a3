"""The audit log: rows chain to each other, nothing changes or removes them, and
verify_audit_log finds the first row that was tampered with."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from apps.leads.models import Submission
from apps.privacy.models import AuditEvent, AuditLogImmutableError
from apps.privacy.services import audit_chain_verify, audit_record

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only"
)


@pytest.fixture
def coordinator() -> User:
    return User.objects.create_user("casey", password="not-used-here-123", is_staff=True)


def _reveal(actor: User, submission: Submission, **extra: object) -> AuditEvent:
    request = RequestFactory().get("/", HTTP_USER_AGENT="Firefox/128", REMOTE_ADDR="203.0.113.9")
    return audit_record(
        actor=actor,
        action=AuditEvent.Action.PHI_REVEAL,
        target=submission,
        fields=["member_id"],
        request=request,
        reason="calling the payer",
        **extra,  # type: ignore[arg-type]
    )


def _tamper(sql: str, params: list[object]) -> None:
    # What someone with raw database access could do. On PostgreSQL the trigger has to be
    # switched off first (inside the test's transaction, rolled back with it).
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE privacy_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE privacy_auditevent ENABLE TRIGGER USER")


def test_it_records_who_what_which_fields_from_where_and_why(
    coordinator: User, make_submission: object
) -> None:
    submission = make_submission()  # type: ignore[operator]

    event = _reveal(coordinator, submission)

    event.refresh_from_db()
    assert event.actor == coordinator
    assert event.actor_username == "casey"
    assert event.action == "phi_reveal"
    assert event.target_label == submission.reference
    assert event.target_id == str(submission.pk)
    assert event.target_type is not None
    assert event.target_type.model == "submission"
    assert event.fields == ["member_id"]
    assert event.ip_address == "203.0.113.9"
    assert event.user_agent == "Firefox/128"
    assert event.reason == "calling the payer"
    assert event.occurred_at is not None


def test_each_row_carries_the_hash_of_the_one_before(
    coordinator: User, make_submission: object
) -> None:
    submission = make_submission()  # type: ignore[operator]
    before = AuditEvent.objects.order_by("-id").first()

    first = _reveal(coordinator, submission)
    second = _reveal(coordinator, submission)

    assert first.prev_hash == (before.hash if before else "")
    assert second.prev_hash == first.hash
    assert len(second.hash) == 64
    assert second.hash != first.hash
    assert audit_chain_verify().intact


def test_an_unknown_action_is_refused(coordinator: User) -> None:
    with pytest.raises(ValueError, match="unknown audit action"):
        audit_record(actor=coordinator, action="peek")


def test_the_orm_refuses_every_change_and_removal(
    coordinator: User, make_submission: object
) -> None:
    event = _reveal(coordinator, make_submission())  # type: ignore[operator]
    event.reason = "rewritten"

    with pytest.raises(AuditLogImmutableError):
        event.save()
    with pytest.raises(AuditLogImmutableError):
        event.delete()
    with pytest.raises(AuditLogImmutableError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    with pytest.raises(AuditLogImmutableError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AuditLogImmutableError):
        AuditEvent.objects.bulk_update([event], ["reason"])
    with pytest.raises(AuditLogImmutableError):
        AuditEvent.objects.bulk_create([AuditEvent(action="login", hash="x")])
    event.refresh_from_db()
    assert event.reason == "calling the payer"


@on_postgresql
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE privacy_auditevent SET reason = 'rewritten'",
        "DELETE FROM privacy_auditevent",
        "TRUNCATE privacy_auditevent",
    ],
)
def test_postgresql_refuses_raw_update_delete_and_truncate(
    coordinator: User, make_submission: object, statement: str
) -> None:
    _reveal(coordinator, make_submission())  # type: ignore[operator]

    with transaction.atomic(), connection.cursor() as cursor:
        # The test settings allow TRUNCATE (the flush between tests); production does not.
        cursor.execute("SET LOCAL asana_leads.audit_truncate = 'refuse'")
        # Run the deferred foreign-key checks of the insert now: TRUNCATE refuses to run with
        # them pending, which would hide what the trigger says.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute(statement)

    assert AuditEvent.objects.filter(reason="calling the payer").exists()


def test_verify_audit_log_says_the_chain_is_intact(
    coordinator: User, make_submission: object
) -> None:
    for _ in range(3):
        _reveal(coordinator, make_submission())  # type: ignore[operator]
    out = StringIO()

    call_command("verify_audit_log", stdout=out)

    assert "intact" in out.getvalue()


def test_verify_audit_log_names_the_first_changed_row(
    coordinator: User, make_submission: object
) -> None:
    events = [_reveal(coordinator, make_submission()) for _ in range(4)]  # type: ignore[operator]
    _tamper("UPDATE privacy_auditevent SET reason = %s WHERE id = %s", ["nothing", events[1].pk])
    _tamper("UPDATE privacy_auditevent SET reason = %s WHERE id = %s", ["nothing", events[2].pk])
    err = StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("verify_audit_log", stderr=err)

    assert raised.value.returncode == 1
    assert f"row id {events[1].pk}" in err.getvalue()
    assert "changed" in err.getvalue()


def test_verify_audit_log_notices_a_removed_row(coordinator: User, make_submission: object) -> None:
    events = [_reveal(coordinator, make_submission()) for _ in range(3)]  # type: ignore[operator]
    _tamper("DELETE FROM privacy_auditevent WHERE id = %s", [events[1].pk])

    report = audit_chain_verify()

    assert report.broken_id == events[2].pk
    assert "removed" in report.problem


def test_details_are_stored_as_they_were_hashed(coordinator: User) -> None:
    audit_record(
        actor=coordinator,
        action=AuditEvent.Action.EXPORT,
        details={"rows": 12, "filters": {"b": "2", "a": ["x", 1.5]}, "when": None},
    )

    assert audit_chain_verify().intact


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain() -> None:
    writers, per_writer = 6, 8
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for index in range(per_writer):
                audit_record(actor=None, action=AuditEvent.Action.EXPORT, details={"n": index})
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert AuditEvent.objects.filter(action="export").count() == writers * per_writer
    hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(hashes) == len(set(hashes)), "two rows chained to the same predecessor"
    assert audit_chain_verify().intact


def test_a_records_own_rows_are_listed_newest_first(
    coordinator: User, make_submission: object
) -> None:
    from apps.privacy.selectors import audit_events_for_target

    mine, other = make_submission(), make_submission()  # type: ignore[operator]
    first = _reveal(coordinator, mine)
    _reveal(coordinator, other)
    second = _reveal(coordinator, mine)

    assert [e.pk for e in audit_events_for_target(target=mine)] == [second.pk, first.pk]
