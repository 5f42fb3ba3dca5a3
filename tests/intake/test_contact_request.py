"""POST /api/v1/contact-requests/: stored in one piece, acknowledged with a reference."""

from __future__ import annotations

import re
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.leads.models import Consent, ConsentWording, Person, Submission
from apps.leads.references import ALPHABET
from tests.conftest import CONTACT_PATH

pytestmark = pytest.mark.django_db
REFERENCE = re.compile(rf"^[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")


def test_it_stores_a_json_contact_request(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    response = api_client.post(CONTACT_PATH, contact_body, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"reference", "received_at", "next_steps"}
    assert REFERENCE.match(body["reference"])
    submission = Submission.objects.get(reference=body["reference"])
    assert submission.kind == "contact"
    assert submission.message == contact_body["message"]
    assert submission.best_time == "evenings"
    assert submission.preferred_contact == "phone"
    assert submission.email == "dana.rivera@example.org"
    assert submission.phone == "+19495550142"
    assert submission.urgency == "routine"
    assert not submission.is_spam
    assert submission.sla_due_at is not None


def test_it_answers_without_echoing_what_was_sent(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    response = api_client.post(CONTACT_PATH, contact_body, format="json")

    text = response.content.decode()
    for value in ("Rivera", "Dana", "brother", "0142", "example.org"):
        assert value not in text


def test_it_accepts_a_plain_html_form(api_client: APIClient) -> None:
    response = api_client.post(
        CONTACT_PATH,
        "first_name=Plain&last_name=Form&email=plain%40example.org&message=Hi&consent_email=on",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 201, response.content
    person = Person.objects.get(email="plain@example.org")
    assert person.consent_email is True
    assert person.consent_sms is False


def test_it_accepts_multipart(api_client: APIClient, contact_body: dict[str, Any]) -> None:
    response = api_client.post(CONTACT_PATH, contact_body, format="multipart")

    assert response.status_code == 201, response.content
    assert Submission.objects.count() == 1


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("on", True),
        ("true", True),
        ("1", True),
        ("yes", True),
        ("false", False),
        ("0", False),
        ("no", False),
        ("", False),
    ],
)
def test_it_reads_form_string_booleans(api_client: APIClient, sent: str, stored: bool) -> None:
    response = api_client.post(
        CONTACT_PATH,
        {"first_name": "A", "last_name": "B", "email": "a@example.org", "message": "x",
         "consent_sms": sent},
        format="multipart",
    )  # fmt: skip

    assert response.status_code == 201, response.content
    consent = Consent.objects.get(channel="sms")
    assert consent.action == ("granted" if stored else "withheld")


def test_an_absent_consent_box_is_withheld(api_client: APIClient) -> None:
    api_client.post(
        CONTACT_PATH,
        "first_name=A&last_name=B&email=a%40example.org&message=x",
        content_type="application/x-www-form-urlencoded",
    )

    assert set(Consent.objects.values_list("channel", "action")) == {
        ("email", "withheld"),
        ("sms", "withheld"),
        ("calls", "withheld"),
    }


def test_it_records_consent_evidence(api_client: APIClient, contact_body: dict[str, Any]) -> None:
    api_client.post(
        CONTACT_PATH,
        contact_body,
        format="json",
        HTTP_USER_AGENT="Mozilla/5.0 (iPhone)",
        REMOTE_ADDR="203.0.113.9",
    )

    consents = {c.channel: c for c in Consent.objects.select_related("wording")}
    assert consents["email"].action == "granted"
    assert consents["sms"].action == "withheld"
    assert consents["calls"].action == "granted"
    email = consents["email"]
    assert email.wording is not None
    assert email.wording.text == contact_body["consent_text"]
    assert email.ip_address == "203.0.113.9"
    assert email.user_agent == "Mozilla/5.0 (iPhone)"
    assert email.page_url == contact_body["page_url"]
    assert email.source == "web_form"
    assert ConsentWording.objects.count() == 1


def test_it_stores_attribution(api_client: APIClient, contact_body: dict[str, Any]) -> None:
    api_client.post(CONTACT_PATH, {**contact_body, "fbclid": "fb.1"}, format="json")

    submission = Submission.objects.get()
    assert submission.utm_source == "google"
    assert submission.utm_medium == "cpc"
    assert submission.utm_campaign == "rehab-orange-county"
    assert submission.gclid == "Cj0KCQ-test"
    assert submission.fbclid == "fb.1"
    assert submission.referrer == "https://www.google.com/"
    assert submission.page_url == "https://asanarecovery.com/contact/"
    person = submission.person
    assert person.first_utm_source == "google"
    assert person.latest_utm_campaign == "rehab-orange-county"


def test_a_person_who_writes_three_times_is_one_person(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    api_client.post(CONTACT_PATH, contact_body, format="json")
    api_client.post(
        CONTACT_PATH,
        {**contact_body, "email": "DANA.RIVERA@example.org", "phone": "", "utm_source": "bing"},
        format="json",
    )
    api_client.post(
        CONTACT_PATH, {**contact_body, "email": "", "phone": "949.555.0142"}, format="json"
    )

    person = Person.objects.get()
    assert person.submissions.count() == 3
    assert person.first_utm_source == "google"
    assert person.latest_utm_source == "google"  # the third post's


def test_a_returning_person_keeps_granted_consent_when_a_box_is_left_unticked(
    api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    api_client.post(CONTACT_PATH, contact_body, format="json")
    api_client.post(CONTACT_PATH, {**contact_body, "consent_email": False}, format="json")

    person = Person.objects.get()
    assert person.consent_email is True
    assert Consent.objects.filter(channel="email").count() == 2


def test_it_requires_email_or_phone(api_client: APIClient, contact_body: dict[str, Any]) -> None:
    response = api_client.post(
        CONTACT_PATH, {**contact_body, "email": "", "phone": ""}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Give an email address or a phone number."]}
    assert Submission.objects.count() == 0


@pytest.mark.parametrize("missing", ["first_name", "last_name", "message"])
def test_it_names_a_missing_required_field(
    api_client: APIClient, contact_body: dict[str, Any], missing: str
) -> None:
    body = {k: v for k, v in contact_body.items() if k != missing}

    response = api_client.post(CONTACT_PATH, body, format="json")

    assert response.status_code == 400
    assert missing in response.json()
    assert Submission.objects.count() == 0
    assert Person.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", "x" * 101),
        ("message", "x" * 5001),
        ("consent_text", "x" * 2001),
        ("utm_source", "x" * 256),
        ("email", "not-an-email"),
        ("phone", "call me maybe"),
        ("phone", "12"),
        ("preferred_contact", "pigeon"),
        ("page_url", "not a url"),
        ("first_name", "nul\x00byte"),
    ],
)
def test_it_names_a_bad_field(
    api_client: APIClient, contact_body: dict[str, Any], field: str, value: str
) -> None:
    response = api_client.post(CONTACT_PATH, {**contact_body, field: value}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert Submission.objects.count() == 0


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("(949) 555-0142", "+19495550142"),
        ("949-555-0142", "+19495550142"),
        ("1 949 555 0142", "+19495550142"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_it_normalizes_phone_numbers(
    api_client: APIClient, contact_body: dict[str, Any], typed: str, e164: str
) -> None:
    api_client.post(CONTACT_PATH, {**contact_body, "phone": typed}, format="json")

    assert Person.objects.get().phone == e164


def test_a_get_on_a_form_path_is_405(api_client: APIClient) -> None:
    assert api_client.get(CONTACT_PATH).status_code == 405


def test_an_unsupported_content_type_is_415(api_client: APIClient) -> None:
    response = api_client.post(CONTACT_PATH, "first_name=A", content_type="text/plain")

    assert response.status_code == 415
    assert "detail" in response.json()


def test_a_malformed_json_body_is_400(api_client: APIClient) -> None:
    response = api_client.post(CONTACT_PATH, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert "detail" in response.json()


def test_an_oversized_body_is_413(api_client: APIClient, contact_body: dict[str, Any]) -> None:
    response = api_client.post(
        CONTACT_PATH, {**contact_body, "utm_term": "x" * 100_000}, format="json"
    )

    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert Submission.objects.count() == 0
