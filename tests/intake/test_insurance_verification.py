"""POST /api/v1/insurance-verifications/: PHI encrypted, payer resolved or left for a human."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from apps.leads.models import CardImage, Submission
from apps.privacy.phi_files import phi_file_read
from tests.conftest import VERIFICATION_PATH

pytestmark = pytest.mark.django_db


def _png(color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 40), color).save(buffer, "PNG")
    return buffer.getvalue()


def test_it_stores_a_verification_with_the_payer_resolved(
    api_client: APIClient, verification_body: dict[str, Any]
) -> None:
    response = api_client.post(VERIFICATION_PATH, verification_body, format="json")

    assert response.status_code == 201, response.content
    submission = Submission.objects.select_related("payer").get()
    assert submission.kind == "verification"
    assert submission.insurance_provider_text == "Signa"
    assert submission.payer is not None
    assert submission.payer.slug == "cigna"
    assert submission.payer_match_score is not None
    assert submission.date_of_birth == datetime.date(1988, 6, 2)
    assert submission.member_id == "U1234 5678-01"
    assert submission.group_number == "GRP-0042"
    assert submission.state == "CA"
    assert submission.seeking_treatment_for == "self"
    assert submission.treatment_interest == "alcohol"


def test_phi_is_encrypted_in_the_database(
    api_client: APIClient, verification_body: dict[str, Any]
) -> None:
    api_client.post(
        VERIFICATION_PATH,
        {**verification_body, "message": "ZZ-private-note", "policy_holder_name": "Zz Holder"},
        format="json",
    )

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT member_id, date_of_birth, group_number, message, policy_holder_name "
            "FROM leads_submission"
        )
        row = cursor.fetchone()
    assert all(value.startswith("f1:") for value in row)
    raw = " ".join(row)
    for plain in ("U1234", "1988-06-02", "GRP-0042", "ZZ-private-note", "Zz Holder"):
        assert plain not in raw


def test_an_unknown_payer_waits_for_mapping(
    api_client: APIClient, verification_body: dict[str, Any]
) -> None:
    response = api_client.post(
        VERIFICATION_PATH,
        {**verification_body, "insurance_provider": "Tufts Health Plan"},
        format="json",
    )

    assert response.status_code == 201
    submission = Submission.objects.get()
    assert submission.payer is None
    assert submission.insurance_provider_text == "Tufts Health Plan"
    assert submission.needs_payer_mapping


def test_a_payer_slug_from_the_dropdown_resolves(
    api_client: APIClient, verification_body: dict[str, Any]
) -> None:
    api_client.post(
        VERIFICATION_PATH, {**verification_body, "insurance_provider": "self-pay"}, format="json"
    )

    submission = Submission.objects.select_related("payer").get()
    assert submission.payer is not None
    assert submission.payer.slug == "self-pay"
    assert submission.payer_match_score == 100


def test_the_same_member_at_the_same_payer_shares_a_blind_index(
    api_client: APIClient, verification_body: dict[str, Any]
) -> None:
    api_client.post(VERIFICATION_PATH, verification_body, format="json")
    api_client.post(
        VERIFICATION_PATH,
        {**verification_body, "member_id": "u12345678-01", "insurance_provider": "cigna"},
        format="json",
    )
    api_client.post(
        VERIFICATION_PATH,
        {**verification_body, "member_id": "U12345678-01", "insurance_provider": "aetna"},
        format="json",
    )

    indexes = list(Submission.objects.order_by("pk").values_list("member_id_index", flat=True))
    assert indexes[0] == indexes[1]
    assert indexes[2] != indexes[0]
    assert "U1234" not in indexes[0]


def test_a_loved_one_needs_the_patients_name(
    api_client: APIClient, verification_body: dict[str, Any]
) -> None:
    response = api_client.post(
        VERIFICATION_PATH,
        {**verification_body, "seeking_treatment_for": "loved_one"},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"patient_first_name", "patient_last_name"}
    assert Submission.objects.count() == 0


def test_a_loved_one_is_stored_with_the_patient_encrypted(
    api_client: APIClient, verification_body: dict[str, Any]
) -> None:
    response = api_client.post(
        VERIFICATION_PATH,
        {
            **verification_body,
            "seeking_treatment_for": "loved_one",
            "patient_first_name": "Jordan",
            "patient_last_name": "Okafor",
            "relationship_to_policy_holder": "child",
            "policy_holder_name": "Sam Okafor",
            "policy_holder_dob": "1960-01-31",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    submission = Submission.objects.get()
    assert submission.patient_first_name == "Jordan"
    assert submission.policy_holder_dob == datetime.date(1960, 1, 31)
    assert submission.relationship_to_policy_holder == "child"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("date_of_birth", "06/02/1988"),
        ("date_of_birth", "1988-02-30"),
        ("date_of_birth", ""),
        ("date_of_birth", "1850-01-01"),
        ("member_id", "ABC$123"),
        ("member_id", "x" * 65),
        ("member_id", ""),
        ("group_number", "x" * 65),
        ("insurance_provider", ""),
        ("state", "ZZ"),
        ("state", "California"),
        ("treatment_interest", "gambling"),
        ("seeking_treatment_for", "neighbor"),
        ("relationship_to_policy_holder", "cousin"),
        ("policy_holder_dob", "tomorrow"),
    ],
)
def test_it_names_a_bad_verification_field(
    api_client: APIClient, verification_body: dict[str, Any], field: str, value: str
) -> None:
    response = api_client.post(
        VERIFICATION_PATH, {**verification_body, field: value}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert Submission.objects.count() == 0


def test_a_date_of_birth_in_the_future_is_400(
    api_client: APIClient, verification_body: dict[str, Any]
) -> None:
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()

    response = api_client.post(
        VERIFICATION_PATH, {**verification_body, "date_of_birth": tomorrow}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"date_of_birth": ["Cannot be in the future."]}


def test_card_images_are_stored_encrypted(
    api_client: APIClient, verification_body: dict[str, Any]
) -> None:
    front = SimpleUploadedFile("front.jpg", _png("red"), content_type="image/jpeg")
    back = SimpleUploadedFile("back.png", _png("blue"), content_type="image/png")

    response = api_client.post(
        VERIFICATION_PATH,
        {**verification_body, "card_front": front, "card_back": back},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    cards = {card.side: card for card in CardImage.objects.all()}
    assert set(cards) == {"front", "back"}
    assert cards["front"].content_type == "image/png"  # judged by content, not by name
    data = phi_file_read(name=cards["front"].storage_name)
    assert Image.open(io.BytesIO(data)).size == (64, 40)


def test_a_card_that_is_not_an_image_or_pdf_is_400(
    api_client: APIClient, verification_body: dict[str, Any]
) -> None:
    fake = SimpleUploadedFile("card.jpg", b"MZ\x90\x00 not an image", content_type="image/jpeg")

    response = api_client.post(
        VERIFICATION_PATH, {**verification_body, "card_front": fake}, format="multipart"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["card_front"]
    assert Submission.objects.count() == 0
    assert CardImage.objects.count() == 0


@override_settings(INTAKE_MAX_CARD_BYTES=1024)
def test_a_card_over_the_size_limit_is_413(
    api_client: APIClient, verification_body: dict[str, Any]
) -> None:
    big = SimpleUploadedFile("card.png", _png() + b"\0" * 2048, content_type="image/png")

    response = api_client.post(
        VERIFICATION_PATH, {**verification_body, "card_back": big}, format="multipart"
    )

    assert response.status_code == 413
    assert "card_back" in response.json()
    assert Submission.objects.count() == 0
