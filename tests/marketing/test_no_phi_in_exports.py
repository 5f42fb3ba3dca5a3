""" "Never" by construction: inquiries who consented are exported (with the Part 2 option), with
every PHI field of their submissions filled with distinctive markers; no marker appears in any
export format, any sync API page or the attribution report. The names, email and phone of the
submitter are contact fields, exported by design, so markers go only where PHI lives."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from openpyxl import load_workbook

from tests.marketing.conftest import PostPerson

pytestmark = pytest.mark.django_db

MARKERS = (
    "1977-03-14",
    "ZZMEMBER4821Q",
    "ZZGROUP77",
    "ZZSECRETMESSAGE",
    "Zzpatientfirst",
    "Zzpatientlast",
    "Zzholder",
    "ZZBESTTIME",
    "ZZSIGNA",
    "alcohol",
    "ketamine",
    "substance",
    "urgent",
    "verified",
    "suicide",
)


def leaks(text: str) -> list[str]:
    folded = text.casefold()
    return [marker for marker in MARKERS if marker.casefold() in folded]


@pytest.fixture
def inquirers(post_person: PostPerson) -> None:
    post_person(
        "verification",
        first_name="Vera",
        last_name="Inquirer",
        phone="(949) 555-0177",
        consent_sms=True,
        seeking_treatment_for="loved_one",
        patient_first_name="Zzpatientfirst",
        patient_last_name="Zzpatientlast",
        date_of_birth="1977-03-14",
        insurance_provider="ZZSIGNA Health",
        member_id="ZZMEMBER4821Q",
        group_number="ZZGROUP77",
        policy_holder_name="Zzholder",
        policy_holder_dob="1951-11-29",
        relationship_to_policy_holder="parent",
        treatment_interest="alcohol",
        state="CA",
    )
    post_person(
        "contact",
        first_name="Conor",
        phone="(949) 555-0178",
        consent_sms=True,
        message="ZZSECRETMESSAGE I think about suicide; ketamine?",
        best_time="ZZBESTTIME mornings",
        preferred_contact="phone",
    )
    post_person(first_name="Bookish")


def _export(tmp_path: Path, channel: str, fmt: str) -> bytes:
    out = tmp_path / f"{channel}.{fmt}"
    call_command(
        "export_contacts",
        channel=channel,
        format=fmt,
        output=str(out),
        signup_kind="all",
        include_inquiries=True,
        acknowledge_part2_notice=True,
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    return out.read_bytes()


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_no_phi_in_csv(inquirers: None, tmp_path: Path, channel: str) -> None:
    text = _export(tmp_path, channel, "csv").decode("utf-8")
    assert "Vera" in text
    assert "Conor" in text
    assert leaks(text) == []  # ...and nothing about what they asked


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_no_phi_in_xlsx(inquirers: None, tmp_path: Path, channel: str) -> None:
    data = _export(tmp_path, channel, "xlsx")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        text = "\n".join(archive.read(name).decode("utf-8") for name in archive.namelist())
    assert "Vera" in text
    assert leaks(text) == []
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert leaks(" ".join(cells)) == []


def test_no_phi_through_the_admin_export(
    inquirers: None, marketer_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.marketing.test_admin_export import export_through_admin

    content = export_through_admin(
        marketer_client,
        django_capture_on_commit_callbacks,
        {
            "channel": "email",
            "signup_kind": "all",
            "include_inquiries": "on",
            "acknowledge_part2_notice": "on",
            "format": "csv",
        },
    )
    assert b"Vera" in content
    assert leaks(content.decode("utf-8")) == []


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_no_phi_in_the_sync_api(inquirers: None, channel: str) -> None:
    from rest_framework.test import APIClient

    from apps.marketing.models import ExportDestination
    from apps.marketing.services import export_token_create

    _, raw = export_token_create(
        name="p2",
        destination=ExportDestination.objects.create(name="d"),
        actor=None,
        include_inquiries=True,
        part2_acknowledged=True,
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.get("/api/v1/marketing/contacts/", {"channel": channel, "signup_kind": "all"})
    text = response.content.decode()
    assert "Vera" in text
    assert leaks(text) == []


# The report names statuses in its headers ("verified"); what it must never show is PHI.
PHI_MARKERS = tuple(m for m in MARKERS if m[0].isdigit() or m.lower().startswith("zz"))


def test_no_phi_in_the_attribution_report(inquirers: None, marketer_client: Client) -> None:
    from django.test import override_settings
    from django.utils import timezone

    today = timezone.localdate().isoformat()
    url = "/admin/marketing/exportrun/attribution/"
    with override_settings(ATTRIBUTION_MIN_GROUP=1):
        page = marketer_client.get(url, {"start": today, "end": today}).content.decode()
        data = marketer_client.get(url, {"start": today, "end": today, "format": "csv"})
    assert "<svg" in page
    for text in (page, data.content.decode()):
        assert "spring-book" in text
        assert [m for m in PHI_MARKERS if m.casefold() in text.casefold()] == []
