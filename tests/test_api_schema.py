"""/api/schema/ is a valid OpenAPI 3 document describing every form, field and answer."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client: Client) -> dict[str, Any]:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return dict(response.json())


def test_the_schema_is_valid_openapi(schema: dict[str, Any]) -> None:
    validate(schema)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/contact-requests/", "/api/v1/insurance-verifications/", "/api/v1/book-signups/"],
)
def test_each_form_declares_its_answers_and_content_types(
    schema: dict[str, Any], path: str
) -> None:
    post = schema["paths"][path]["post"]

    assert set(post["responses"]) >= {"201", "400", "413", "415", "422", "429", "503"}
    assert set(post["requestBody"]["content"]) == {
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])


def test_the_verification_form_describes_every_contract_field(schema: dict[str, Any]) -> None:
    ref = schema["paths"]["/api/v1/insurance-verifications/"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["$ref"]
    fields = set(schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"])

    assert fields >= {
        "first_name", "last_name", "email", "phone", "consent_email", "consent_sms",
        "consent_calls", "consent_text", "page_url", "referrer", "utm_source", "utm_medium",
        "utm_campaign", "utm_term", "utm_content", "gclid", "fbclid", "website",
        "seeking_treatment_for", "patient_first_name", "patient_last_name", "date_of_birth",
        "insurance_provider", "member_id", "group_number", "policy_holder_name",
        "policy_holder_dob", "relationship_to_policy_holder", "state", "treatment_interest",
        "message", "card_front", "card_back",
    }  # fmt: skip


def test_the_human_readable_docs_are_served(client: Client) -> None:
    assert client.get("/api/docs/").status_code == 200
