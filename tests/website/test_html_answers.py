"""A plain HTML form (no JavaScript) gets pages and redirects; JSON clients keep JSON."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client, override_settings

from apps.leads.models import Submission
from tests.conftest import BOOK_PATH, CONTACT_PATH, VERIFICATION_PATH

pytestmark = pytest.mark.django_db
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SITE = "https://www.asanarecovery.com"


def _form(body: dict[str, Any]) -> dict[str, Any]:
    """What an HTML form sends: strings, and unticked boxes absent."""
    return {name: ("on" if value is True else value) for name, value in body.items() if value}


def _browser_post(client: Client, path: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(path, _form(body), HTTP_ACCEPT=BROWSER_ACCEPT, **headers)


def test_it_redirects_a_browser_to_the_built_in_thank_you_page(
    client: Client, contact_body: dict[str, Any]
) -> None:
    response = _browser_post(client, CONTACT_PATH, contact_body)

    assert response.status_code == 303
    location = urlsplit(response["Location"])
    assert location.path == "/forms/thank-you/"
    query = parse_qs(location.query)
    submission = Submission.objects.get()
    assert query == {"reference": [submission.reference], "form": ["contact"]}
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert submission.reference in page.content.decode()
    assert "Thank you" in page.content.decode()


@override_settings(FORMS_THANK_YOU_URL="https://www.asanarecovery.com/thank-you/?lang=en")
def test_it_redirects_to_the_sites_thank_you_page_with_a_crisis_flag(
    client: Client, contact_body: dict[str, Any]
) -> None:
    contact_body["message"] = "My son overdosed last night and I am scared."

    response = _browser_post(client, CONTACT_PATH, contact_body)

    assert response.status_code == 303
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        "https://www.asanarecovery.com/thank-you/"
    )
    query = parse_qs(location.query)
    assert query["lang"] == ["en"]
    assert query["crisis"] == ["1"]
    assert query["form"] == ["contact"]
    assert query["reference"] == [Submission.objects.get().reference]


def test_the_built_in_page_shows_988_and_911_when_flagged(client: Client) -> None:
    page = client.get("/forms/thank-you/?reference=K7MQ-4T9R&form=contact&crisis=1").content

    assert b"K7MQ-4T9R" in page
    assert b'href="tel:988"' in page
    assert b'href="tel:911"' in page
    assert b'role="alert"' in page


def test_the_built_in_page_shows_no_crisis_box_when_not_flagged(client: Client) -> None:
    page = client.get("/forms/thank-you/?reference=K7MQ-4T9R&form=verification").content

    assert b'role="alert"' not in page
    assert b"checking your benefits" in page


def test_the_built_in_page_shows_only_a_real_looking_reference(client: Client) -> None:
    page = client.get("/forms/thank-you/?reference=Call+555-0000+now&form=contact").content

    assert b"555-0000" not in page


def test_each_form_redirects_with_its_own_name(
    client: Client, verification_body: dict[str, Any], book_body: dict[str, Any]
) -> None:
    verification = _browser_post(client, VERIFICATION_PATH, verification_body)
    book = _browser_post(client, BOOK_PATH, book_body)

    assert parse_qs(urlsplit(verification["Location"]).query)["form"] == ["verification"]
    assert parse_qs(urlsplit(book["Location"]).query)["form"] == ["book"]


def test_a_400_is_a_page_listing_each_problem_with_a_link_back(
    client: Client, verification_body: dict[str, Any]
) -> None:
    verification_body["member_id"] = "AB#12"
    del verification_body["date_of_birth"]
    verification_body["page_url"] = f"{SITE}/verify-insurance/?utm_source=google"

    response = _browser_post(
        client, VERIFICATION_PATH, verification_body, HTTP_ORIGIN=SITE, HTTP_REFERER=f"{SITE}/"
    )

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "<strong>Member ID:</strong> Use only letters, digits, spaces and dashes." in page
    assert "<strong>Date of birth:</strong> This field is required." in page
    assert f'href="{SITE}/verify-insurance/?utm_source=google"' in page
    assert not Submission.objects.exists()


def test_a_400_never_links_to_another_site_than_the_one_that_posted(
    client: Client, contact_body: dict[str, Any]
) -> None:
    contact_body["phone"] = "12"
    contact_body["page_url"] = "https://phishing.example/login"

    response = _browser_post(
        client, CONTACT_PATH, contact_body, HTTP_ORIGIN=SITE, HTTP_REFERER=f"{SITE}/contact/"
    )

    page = response.content.decode()
    assert "phishing.example" not in page
    assert f'href="{SITE}/contact/"' in page


def test_a_form_wide_rule_is_listed_too(client: Client, contact_body: dict[str, Any]) -> None:
    del contact_body["email"], contact_body["phone"]

    response = _browser_post(client, CONTACT_PATH, contact_body)

    assert response.status_code == 400
    assert "Give an email address or a phone number." in response.content.decode()


def test_a_too_large_body_is_a_page_too(client: Client) -> None:
    response = client.post(
        CONTACT_PATH,
        "first_name=A&message=" + "x" * 70_000,
        content_type="application/x-www-form-urlencoded",
        HTTP_ACCEPT=BROWSER_ACCEPT,
    )

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert "too large" in response.content.decode()


def test_an_unsupported_content_type_is_a_page(client: Client) -> None:
    response = client.post(
        CONTACT_PATH, "first_name=A", content_type="text/plain", HTTP_ACCEPT=BROWSER_ACCEPT
    )

    assert response.status_code == 415
    assert response["Content-Type"].startswith("text/html")


@override_settings(API_THROTTLE=True)
def test_too_many_posts_is_a_page_keeping_retry_after(
    client: Client, contact_body: dict[str, Any], settings: Any
) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "intake_contact": "1/hour",
        },
    }
    _browser_post(client, CONTACT_PATH, contact_body)

    response = _browser_post(client, CONTACT_PATH, contact_body)

    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert int(response["Retry-After"]) > 0
    assert "Too many attempts" in response.content.decode()


@pytest.mark.parametrize("accept", ["application/json", "*/*", "", "text/html, application/json"])
def test_json_clients_keep_the_contracts_answers(
    client: Client, contact_body: dict[str, Any], accept: str
) -> None:
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    created = client.post(CONTACT_PATH, _form(contact_body), **headers)
    contact_body["member_id"] = "x"
    del contact_body["first_name"]
    refused = client.post(CONTACT_PATH, _form(contact_body), **headers)

    assert created.status_code == 201
    assert created["Content-Type"] == "application/json"
    assert set(created.json()) == {"reference", "received_at", "next_steps"}
    assert refused.status_code == 400
    assert refused.content == b'{"first_name":["This field is required."]}'


def test_a_cross_origin_form_post_needs_no_csrf_token(contact_body: dict[str, Any]) -> None:
    # The site is another origin: it has no CSRF cookie of ours to send. The API uses no
    # session authentication, so Django's CSRF check does not apply to it.
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(
        CONTACT_PATH,
        _form(contact_body),
        HTTP_ACCEPT=BROWSER_ACCEPT,
        HTTP_ORIGIN=SITE,
        HTTP_REFERER=f"{SITE}/contact/",
    )

    assert response.status_code == 303
    assert Submission.objects.count() == 1


def test_a_browser_asking_only_for_html_is_answered_not_refused(
    client: Client, contact_body: dict[str, Any]
) -> None:
    response = client.post(CONTACT_PATH, _form(contact_body), HTTP_ACCEPT="text/html")

    assert response.status_code == 303
    assert Submission.objects.count() == 1
