"""Encrypted model fields: plaintext in Python, ciphertext in the column."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import FieldError, ValidationError
from django.db import connection

from apps.leads.models import Submission
from apps.privacy.crypto import key_id
from apps.privacy.fields import EncryptedDateField, EncryptedJSONField
from tests.privacy.conftest import PHI

pytestmark = pytest.mark.django_db

Keys = Callable[..., Any]
MakeSubmission = Callable[..., Submission]


def _raw_row(submission: Submission, *columns: str) -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM leads_submission WHERE id = %s",  # noqa: S608
            [submission.pk],
        )
        row = cursor.fetchone()
    assert row is not None
    return tuple(row)


def test_it_never_writes_plaintext_to_the_column(make_submission: MakeSubmission) -> None:
    submission = make_submission()
    columns = ("message", "member_id", "patient_first_name", "date_of_birth")
    raw = _raw_row(submission, *columns)
    for column, stored in zip(columns, raw, strict=True):
        assert stored.startswith("f1:"), column
        assert str(PHI[column]) not in stored, column
    with connection.cursor() as cursor:
        cursor.execute("SELECT message FROM leads_submission")
        assert all(PHI["message"] not in value for (value,) in cursor.fetchall())


def test_it_reads_back_plaintext_and_dates(make_submission: MakeSubmission) -> None:
    submission = make_submission()
    fresh = Submission.objects.get(pk=submission.pk)
    assert fresh.message == PHI["message"]
    assert fresh.member_id == PHI["member_id"]
    assert fresh.date_of_birth == datetime.date(1987, 4, 23)


def test_values_bypass_still_sees_only_plaintext_through_the_orm(
    make_submission: MakeSubmission,
) -> None:
    submission = make_submission()
    values = Submission.objects.filter(pk=submission.pk).values("message", "date_of_birth")
    assert list(values) == [{"message": PHI["message"], "date_of_birth": PHI["date_of_birth"]}]


def test_it_writes_under_the_newest_key(
    make_submission: MakeSubmission, keys: Keys, new_key: str, old_key: str
) -> None:
    with keys(new_key, old_key):
        submission = make_submission()
    (stored,) = _raw_row(submission, "message")
    assert stored.startswith(f"f1:{key_id(new_key)}:")


def test_it_stores_empty_and_null_as_they_are(make_submission: MakeSubmission) -> None:
    submission = make_submission(message="", date_of_birth=None, group_number="")
    assert _raw_row(submission, "message", "date_of_birth", "group_number") == ("", None, "")
    fresh = Submission.objects.get(pk=submission.pk)
    assert (fresh.message, fresh.date_of_birth) == ("", None)


def test_it_updates_through_queryset_update_encrypted(make_submission: MakeSubmission) -> None:
    submission = make_submission()
    Submission.objects.filter(pk=submission.pk).update(message="updated words")
    (stored,) = _raw_row(submission, "message")
    assert "updated words" not in stored
    assert Submission.objects.get(pk=submission.pk).message == "updated words"


def test_it_refuses_lookups_that_could_never_match(make_submission: MakeSubmission) -> None:
    make_submission()
    with pytest.raises(FieldError, match="blind index"):
        list(Submission.objects.filter(member_id=PHI["member_id"]))
    with pytest.raises(FieldError):
        list(Submission.objects.filter(message__icontains="fentanyl"))
    with pytest.raises(FieldError):
        list(Submission.objects.filter(member_id__in=[PHI["member_id"]]))


def test_it_still_finds_empty_and_missing_values(make_submission: MakeSubmission) -> None:
    with_text = make_submission()
    without = make_submission(message="", date_of_birth=None)
    assert list(Submission.objects.filter(message="")) == [without]
    assert list(Submission.objects.exclude(message="")) == [with_text]
    assert list(Submission.objects.filter(date_of_birth__isnull=True)) == [without]


def test_date_field_turns_datetimes_into_dates_that_read_back() -> None:
    field = EncryptedDateField()
    stored = field.get_prep_value(datetime.datetime(2001, 2, 3, 4, 5, tzinfo=datetime.UTC))
    assert field.from_db_value(stored, None, connection) == datetime.date(2001, 2, 2)  # type: ignore[arg-type]


def test_date_field_reports_an_invalid_date_as_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        EncryptedDateField().to_python("23/04/1987")


def test_json_field_round_trips_a_document_and_survives_full_clean() -> None:
    field = EncryptedJSONField()
    document = {"deductible": 1500, "in_network": True}
    assert field.to_python(document) == document
    stored = field.get_prep_value(document)
    assert "deductible" not in stored
    assert field.from_db_value(stored, None, connection) == document  # type: ignore[arg-type]
