"""No PHI in logs, answers, database rows or files (issue 3, section 3; DESIGN.md's PHI boundary).

A contact request and an insurance verification (with an insurance card photo) carry
distinctive PHI markers in every PHI field. Everything the process says or keeps is then
searched for them in plain text:

- every log record of every logger at DEBUG (message, arguments, exception text, extras), the
  SQL log included, and whatever reached stdout/stderr;
- the HTTP answers, headers included;
- every value of every row of every table, read with raw SQL (encrypted columns must hold
  ciphertext only);
- every file under ``PHI_FILES_DIR`` and ``VAR_DIR`` (the card is stored encrypted);
- every email and text the submission sent: the follow-ups it planned (staff alert, on-call
  text, confirmation) are delivered through the real outbox service, to the test mailbox and the
  file SMS backend (DESIGN.md: "No PHI in logs, error reports, emails, texts, staff alerts").

The submitter's own name, email and phone are contact fields, plain by design (staff search by
them), so the markers are placed only in the fields the design treats as PHI.
"""

from __future__ import annotations

import contextlib
import io
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from PIL import Image, PngImagePlugin
from rest_framework.test import APIClient

from apps.followups.models import OutboxMessage
from apps.followups.services import outbox_deliver
from apps.leads.models import CardImage, Submission
from apps.privacy.crypto import keyring
from tests.conftest import CONTACT_PATH, VERIFICATION_PATH

pytestmark = pytest.mark.django_db

DOB = "1977-03-14"
HOLDER_DOB = "1951-11-29"
MEMBER_ID = "ZZMEMBER4821Q"
GROUP = "ZZGROUP77"
MESSAGE = "ZZSECRETMESSAGE overdose last night"
PATIENT_FIRST = "Zzpatientfirst"
PATIENT_LAST = "Zzpatientlast"
HOLDER = "Zzholder"
BEST_TIME = "ZZBESTTIME after dialysis"
# What must never appear in plain text anywhere (each searched case-insensitively).
MARKERS = (
    DOB,
    DOB.replace("-", ""),
    "03/14/1977",
    HOLDER_DOB,
    MEMBER_ID,
    GROUP,
    "ZZSECRETMESSAGE",
    PATIENT_FIRST,
    PATIENT_LAST,
    HOLDER,
    "ZZBESTTIME",
    "ZZCARDTEXT",
)


def _leaks(text: str) -> list[str]:
    folded = text.casefold()
    return [marker for marker in MARKERS if marker.casefold() in folded]


def _leaks_in_bytes(data: bytes) -> list[str]:
    found = [m for m in MARKERS if m.encode() in data or m.upper().encode() in data]
    # UTF-16 text (some PDF and Windows tooling) would hide from a plain byte search.
    found += [m for m in MARKERS if m.encode("utf-16-le") in data]
    return found


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _record_text(record: logging.LogRecord) -> str:
    parts = [str(record.msg), repr(record.args)]
    with contextlib.suppress(TypeError, ValueError):
        parts.append(record.getMessage())
    if record.exc_info:
        parts.append("".join(traceback.format_exception(*record.exc_info)))
    parts.extend(str(x) for x in (record.exc_text, record.stack_info) if x)
    parts.append(repr(vars(record)))
    return "\n".join(parts)


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """Every record of every logger at DEBUG, the SQL log included.

    caplog sits on the root logger; a handler of our own also sits on every logger that does not
    propagate, and every logger's level is lowered to DEBUG for the test.
    """
    caplog.set_level(logging.DEBUG)
    collect = _Collect()
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    non_propagating = [lg for lg in loggers if not lg.propagate and lg is not logging.getLogger()]
    for logger in [logging.getLogger(), *non_propagating]:
        logger.addHandler(collect)
    # Django logs every query with its parameters only when asked to.
    debug_cursor = connection.force_debug_cursor
    connection.force_debug_cursor = True
    try:
        yield collect.records
    finally:
        connection.force_debug_cursor = debug_cursor
        for logger in [logging.getLogger(), *non_propagating]:
            logger.removeHandler(collect)
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled


def _card_png() -> bytes:
    """A card photo whose metadata carries a marker (text chunks must not survive)."""
    image = Image.new("RGB", (64, 40), (20, 90, 160))
    for x in range(10, 54):
        image.putpixel((x, 20), (250, 250, 250))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", f"ZZCARDTEXT {MEMBER_ID} {DOB}")
    info.add_itxt("Description", f"ZZCARDTEXT {PATIENT_FIRST}")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def _verification_body(card: bytes | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "first_name": "Casey",
        "last_name": "Lindqvist",
        "email": "casey.lindqvist@example.org",
        "phone": "(714) 555-0160",
        "seeking_treatment_for": "loved_one",
        "patient_first_name": PATIENT_FIRST,
        "patient_last_name": PATIENT_LAST,
        "date_of_birth": DOB,
        "insurance_provider": "Signa",
        "member_id": MEMBER_ID,
        "group_number": GROUP,
        "policy_holder_name": HOLDER,
        "policy_holder_dob": HOLDER_DOB,
        "relationship_to_policy_holder": "parent",
        "state": "CA",
        "treatment_interest": "substance_use",
        "message": MESSAGE,
        "consent_email": "on",
        "consent_calls": "on",
        "consent_text": "I agree to be contacted.",
        "page_url": "https://asanarecovery.com/verify-insurance/",
    }
    if card is not None:
        front = io.BytesIO(card)
        front.name = "card-front.png"
        body["card_front"] = front
    return body


def _contact_body() -> dict[str, Any]:
    return {
        "first_name": "Casey",
        "last_name": "Lindqvist",
        "email": "casey.lindqvist@example.org",
        "message": MESSAGE,
        "best_time": BEST_TIME,
        "preferred_contact": "phone",
        "consent_email": True,
        "consent_text": "I agree to be contacted.",
    }


def _response_text(response: Any) -> str:
    headers = "\n".join(f"{k}: {v}" for k, v in response.items())
    return f"{headers}\n\n{response.content.decode('utf-8', 'replace')}"


def _rows_with_markers() -> list[tuple[str, str, list[str]]]:
    found: list[tuple[str, str, list[str]]] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [col[0] for col in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    if isinstance(value, bytes | bytearray | memoryview):
                        leaks = _leaks_in_bytes(bytes(value))
                    else:
                        leaks = _leaks(str(value))
                    if leaks:
                        found.append((table, column, leaks))
    return found


def _files_with_markers() -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    roots = {Path(settings.PHI_FILES_DIR), Path(settings.VAR_DIR), Path(settings.SMS_FILE_PATH)}
    for root in roots:
        if not root.exists():
            continue
        for path in root.rglob("*"):
            if path.is_file():
                leaks = _leaks_in_bytes(path.read_bytes())
                if leaks:
                    found.append((str(path), leaks))
    return found


def _assert_no_leaks_in_logs(records: list[logging.LogRecord]) -> None:
    leaking = [
        (record.name, record.levelname, _leaks(_record_text(record)))
        for record in records
        if _leaks(_record_text(record))
    ]
    assert not leaking, leaking


def _deliver_due_followups() -> list[str]:
    due = OutboxMessage.objects.filter(due_at__lte=timezone.now()).order_by("pk")
    return [outbox_deliver(message_id=pk) for pk in due.values_list("pk", flat=True)]


@override_settings(ON_CALL_SMS_NUMBER="+19495550100", MANAGER_SMS_NUMBER="+19495550101")
def test_it_keeps_phi_out_of_logs_answers_rows_files_mail_and_texts(
    all_logs: list[logging.LogRecord],
    capfd: pytest.CaptureFixture[str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = APIClient()
    with django_capture_on_commit_callbacks(execute=True):
        contact = client.post(CONTACT_PATH, _contact_body(), format="json")
    with django_capture_on_commit_callbacks(execute=True):
        verification = client.post(
            VERIFICATION_PATH,
            _verification_body(card=_card_png()),
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="phi-leak-test-1",
        )
    assert contact.status_code == 201, contact.content
    assert verification.status_code == 201, verification.content
    # The message reads like a crisis: staff are alerted by email and the on-call phone.
    assert "crisis_resources" in contact.json()
    outcomes = _deliver_due_followups()
    assert outcomes.count("sent") >= 2, outcomes
    assert mail.outbox, "the staff alert email was delivered"
    assert any(Path(settings.SMS_FILE_PATH).glob("*.json")), "the on-call text was delivered"

    # The posts went where they should: the PHI is stored (encrypted) and readable by the app.
    stored = Submission.objects.get(reference=verification.json()["reference"])
    assert (stored.member_id, stored.group_number) == (MEMBER_ID, GROUP)
    assert str(stored.date_of_birth) == DOB
    assert stored.policy_holder_name == HOLDER
    card = CardImage.objects.get(submission=stored)
    assert len(all_logs) > 0, "the SQL log at least must have been captured"

    for response in (contact, verification):
        assert not _leaks(_response_text(response)), _response_text(response)
    _assert_no_leaks_in_logs(all_logs)
    out, err = capfd.readouterr()
    assert not _leaks(out + err), (out + err)[-2000:]
    assert not _rows_with_markers()
    assert not _files_with_markers()
    for message in mail.outbox:
        text = "\n".join(
            [message.subject, message.body, *(str(alt[0]) for alt in message.alternatives)]
        )
        assert not _leaks(text), (message.subject, _leaks(text))

    # The card is on disk encrypted (no PNG signature), and its text chunks did not survive.
    card_file = Path(settings.PHI_FILES_DIR) / card.storage_name
    sealed = card_file.read_bytes()
    assert b"\x89PNG" not in sealed
    assert b"IHDR" not in sealed
    plain = keyring().decrypt_bytes(sealed)
    assert plain.startswith(b"\x89PNG")
    assert not _leaks_in_bytes(plain)
    assert b"tEXt" not in plain
    assert b"iTXt" not in plain


def test_it_does_not_echo_phi_from_an_invalid_verification(
    all_logs: list[logging.LogRecord], capfd: pytest.CaptureFixture[str]
) -> None:
    body = _verification_body()
    body.update(
        member_id=f"{MEMBER_ID}!!",
        group_number=f"{GROUP}" + "7" * 64,
        date_of_birth=f"{DOB}T00:00",
        policy_holder_dob=f"ZZBESTTIME-{HOLDER_DOB}",
    )
    before = Submission.objects.count()
    for fmt in ("json", "multipart"):
        response = APIClient().post(VERIFICATION_PATH, body, format=fmt)
        assert response.status_code == 400, response.content
        errors = response.json()
        assert {
            "member_id",
            "group_number",
            "date_of_birth",
            "policy_holder_dob",
        } <= set(errors)
        assert not _leaks(_response_text(response)), errors
    assert Submission.objects.count() == before
    _assert_no_leaks_in_logs(all_logs)
    out, err = capfd.readouterr()
    assert not _leaks(out + err), (out + err)[-2000:]
