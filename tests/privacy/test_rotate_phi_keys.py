"""``rotate_phi_keys``: every value and file ends under the newest key, resumably."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.leads.models import Submission
from apps.privacy.crypto import key_id
from apps.privacy.phi_files import phi_file_read, phi_file_save
from apps.privacy.services import FILES_LABEL, phi_keys_rotate
from tests.privacy.conftest import PHI

pytestmark = pytest.mark.django_db

Keys = Callable[..., Any]
MakeSubmission = Callable[..., Submission]
ENCRYPTED_COLUMNS = (
    "best_time",
    "message",
    "patient_first_name",
    "patient_last_name",
    "date_of_birth",
    "member_id",
    "group_number",
    "policy_holder_name",
    "policy_holder_dob",
    "relationship_to_policy_holder",
)


def _raw_values() -> list[str]:
    """Every non-empty encrypted value in leads_submission, as stored."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(ENCRYPTED_COLUMNS)} FROM leads_submission")  # noqa: S608
        return [value for row in cursor.fetchall() for value in row if value]


def _rotate(**overrides: Any) -> Any:
    options: dict[str, Any] = {"batch_size": 500, "dry_run": False, "progress": None}
    return phi_keys_rotate(**{**options, **overrides})


def test_it_moves_every_value_to_the_newest_key(
    make_submission: MakeSubmission, keys: Keys, new_key: str, old_key: str
) -> None:
    with keys(old_key):
        made = [make_submission() for _ in range(3)]
    with keys(new_key, old_key):
        report = _rotate(batch_size=2)
    assert report.complete
    assert report.rotated["leads.Submission.message"] == 3
    assert report.rotated["leads.Submission.date_of_birth"] == 3
    assert report.total_failed == 0
    raw = _raw_values()
    assert len(raw) == 3 * 4
    assert all(value.startswith(f"f1:{key_id(new_key)}:") for value in raw)
    # The old key can go now: everything opens with the new one alone.
    with keys(new_key):
        for submission in made:
            fresh = Submission.objects.get(pk=submission.pk)
            assert (fresh.message, fresh.date_of_birth) == (PHI["message"], PHI["date_of_birth"])


def test_it_leaves_current_empty_and_null_values_untouched(
    make_submission: MakeSubmission, keys: Keys, new_key: str, old_key: str
) -> None:
    with keys(new_key, old_key):
        make_submission()
        make_submission(message="", date_of_birth=None)
        before = _raw_values()
        report = _rotate()
    assert report.total_rotated == 0
    assert _raw_values() == before


def test_it_resumes_where_an_interrupted_run_stopped(
    make_submission: MakeSubmission, keys: Keys, new_key: str, old_key: str
) -> None:
    with keys(old_key):
        for _ in range(3):
            make_submission()
    new_prefix = f"f1:{key_id(new_key)}:"
    with keys(new_key, old_key):
        first = _rotate(batch_size=1, max_batches=1)
        assert not first.complete
        assert first.rotated["leads.Submission.message"] == 1
        assert sum(value.startswith(new_prefix) for value in _raw_values()) == 4

        second = _rotate(batch_size=1, max_batches=1)
        assert not second.complete
        assert second.rotated["leads.Submission.message"] == 1
        assert sum(value.startswith(new_prefix) for value in _raw_values()) == 8

        last = _rotate(batch_size=1)
    assert last.complete
    assert last.rotated["leads.Submission.message"] == 1
    assert all(value.startswith(new_prefix) for value in _raw_values())


def test_a_limit_that_is_not_reached_still_completes(
    make_submission: MakeSubmission, keys: Keys, new_key: str, old_key: str
) -> None:
    with keys(old_key):
        make_submission()
    with keys(new_key, old_key):
        report = _rotate(batch_size=10, max_batches=1)
    assert report.complete
    assert report.batches == 1


def test_a_dry_run_counts_and_writes_nothing(
    make_submission: MakeSubmission, keys: Keys, new_key: str, old_key: str
) -> None:
    with keys(old_key):
        make_submission()
        make_submission(message="")
        phi_file_save(data=b"card", folder="cards")
    before = _raw_values()
    with keys(new_key, old_key):
        report = _rotate(dry_run=True)
    assert report.dry_run
    assert report.rotated["leads.Submission.message"] == 1
    assert report.rotated["leads.Submission.member_id"] == 2
    assert report.rotated[FILES_LABEL] == 1
    assert _raw_values() == before


def test_it_re_encrypts_files_in_place(
    phi_storage_dir: Path, keys: Keys, new_key: str, old_key: str
) -> None:
    with keys(old_key):
        names = [phi_file_save(data=f"card {i}".encode(), folder="cards") for i in range(3)]
    with keys(new_key, old_key):
        current = phi_file_save(data=b"already new", folder="cards/2025")
        untouched = (phi_storage_dir / current).read_bytes()
        report = _rotate(batch_size=2)
    assert report.rotated[FILES_LABEL] == 3
    assert (phi_storage_dir / current).read_bytes() == untouched
    for name in names:
        assert (phi_storage_dir / name).read_bytes().startswith(f"f1:{key_id(new_key)}:".encode())
    with keys(new_key):
        assert [phi_file_read(name=name) for name in names] == [b"card 0", b"card 1", b"card 2"]
    assert sorted(p.name for p in (phi_storage_dir / "cards").iterdir() if p.is_file()) == sorted(
        Path(name).name for name in names
    )


def test_an_interrupted_file_rotation_resumes(
    phi_storage_dir: Path, keys: Keys, new_key: str, old_key: str
) -> None:
    with keys(old_key):
        names = [phi_file_save(data=b"card", folder="cards") for _ in range(3)]
    new_prefix = f"f1:{key_id(new_key)}:".encode()
    with keys(new_key, old_key):
        first = _rotate(batch_size=1, max_batches=2)
        assert not first.complete
        assert first.rotated[FILES_LABEL] == 2
        rest = _rotate(batch_size=1)
    assert rest.rotated[FILES_LABEL] == 1
    assert all((phi_storage_dir / name).read_bytes().startswith(new_prefix) for name in names)


def test_it_reports_values_no_key_opens_and_rotates_the_rest(
    make_submission: MakeSubmission, keys: Keys, new_key: str, old_key: str
) -> None:
    lost_key = Fernet.generate_key().decode()
    with keys(lost_key):
        orphan = make_submission()
        lost_file = phi_file_save(data=b"card", folder="cards")
    with keys(old_key):
        make_submission()
    with keys(new_key, old_key):
        report = _rotate()
    assert report.failed["leads.Submission.message"] == [str(orphan.pk)]
    assert report.failed[FILES_LABEL] == [lost_file]
    assert report.rotated["leads.Submission.message"] == 1
    lost_prefix = f"f1:{key_id(lost_key)}:"
    assert sum(value.startswith(lost_prefix) for value in _raw_values()) == 4


def test_it_writes_one_update_per_column_per_batch(
    make_submission: MakeSubmission, keys: Keys, new_key: str, old_key: str
) -> None:
    def queries_for(rows: int) -> int:
        with keys(old_key):
            for _ in range(rows):
                make_submission()
        with keys(new_key, old_key), CaptureQueriesContext(connection) as captured:
            _rotate(batch_size=100)
        return len(captured)

    assert queries_for(2) == queries_for(20)


def test_the_command_prints_counts_per_field_and_for_files(
    make_submission: MakeSubmission, keys: Keys, new_key: str, old_key: str
) -> None:
    with keys(old_key):
        make_submission()
        make_submission()
        phi_file_save(data=b"card", folder="cards")
    out = StringIO()
    with keys(new_key, old_key):
        call_command("rotate_phi_keys", "--batch-size", "1", stdout=out)
    printed = out.getvalue()
    assert f"newest key: {key_id(new_key)}" in printed
    assert "leads.Submission.message: 2 re-encrypted" in printed
    assert "leads.Submission.group_number: 0 re-encrypted" in printed
    assert f"{FILES_LABEL}: 1 re-encrypted" in printed
    assert PHI["message"] not in printed


def test_the_command_dry_run_says_what_it_would_do(
    make_submission: MakeSubmission, keys: Keys, new_key: str, old_key: str
) -> None:
    with keys(old_key):
        make_submission()
    out = StringIO()
    with keys(new_key, old_key):
        call_command("rotate_phi_keys", "--dry-run", stdout=out)
    assert "leads.Submission.message: 1 to re-encrypt" in out.getvalue()
    assert _raw_values()[0].startswith(f"f1:{key_id(old_key)}:")


def test_the_command_fails_loudly_when_a_value_cannot_be_opened(
    make_submission: MakeSubmission, keys: Keys, new_key: str
) -> None:
    with keys(Fernet.generate_key().decode()):
        orphan = make_submission()
    err = StringIO()
    with keys(new_key), pytest.raises(CommandError, match="could not be decrypted"):
        call_command("rotate_phi_keys", stdout=StringIO(), stderr=err)
    assert f"leads.Submission.message: 1 not opened by any configured key: {orphan.pk}" in (
        err.getvalue()
    )


def test_the_command_stops_after_max_batches(
    make_submission: MakeSubmission, keys: Keys, new_key: str, old_key: str
) -> None:
    with keys(old_key):
        make_submission()
        make_submission()
    out = StringIO()
    with keys(new_key, old_key):
        call_command("rotate_phi_keys", "--batch-size", "1", "--max-batches", "1", stdout=out)
    assert "run again to continue" in out.getvalue()


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_the_command_refuses_a_batch_size_below_one(value: str) -> None:
    with pytest.raises(CommandError):
        call_command("rotate_phi_keys", "--batch-size", value)
