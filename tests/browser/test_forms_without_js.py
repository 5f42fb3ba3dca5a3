"""The same forms with JavaScript off: plain HTML posts, answered with pages and redirects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from apps.leads.models import Submission
from tests.browser.forms_support import (
    BOOK,
    CONTACT,
    DEMO,
    VERIFY,
    fill_book,
    fill_contact,
    fill_verification,
    kit_settings,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("kit_settings")]
__all__ = ["kit_settings"]


@pytest.fixture
def plain_page(browser: Any) -> Iterator[Any]:
    """A phone-sized tab with JavaScript disabled."""
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 390, "height": 844}, locale="en-US"
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _thank_you_reference(page: Any) -> str:
    page.wait_for_url("**/forms/thank-you/**")
    return str(page.locator(".reference").inner_text())


def test_the_page_is_plain_html_without_the_script(plain_page: Any, live_server: Any) -> None:
    plain_page.goto(f"{live_server.url}{DEMO}")

    provider = plain_page.locator("#af-verify-insurance_provider")
    assert provider.evaluate("node => node.tagName") == "INPUT"
    assert plain_page.locator(f"{VERIFY}[data-enhanced]").count() == 0


def test_a_contact_message_lands_on_the_thank_you_page(plain_page: Any, live_server: Any) -> None:
    plain_page.goto(f"{live_server.url}{DEMO}?utm_source=flyer")
    fill_contact(plain_page)

    plain_page.locator(CONTACT).get_by_role("button", name="Send message").click()

    reference = _thank_you_reference(plain_page)
    submission = Submission.objects.get()
    assert submission.reference == reference
    assert not submission.is_spam
    assert submission.utm_source == "flyer"  # filled in by the page as it rendered
    assert "988" not in plain_page.locator("h1").inner_text()


def test_a_verification_with_a_typed_payer_and_a_card_photo(
    plain_page: Any, live_server: Any, tmp_path: Any
) -> None:
    from PIL import Image

    # A real image: the API judges card images by their content, not their name.
    png = tmp_path / "card.png"
    Image.new("RGB", (320, 200), (30, 90, 160)).save(png, format="PNG")
    plain_page.goto(f"{live_server.url}{DEMO}")
    fill_verification(plain_page, payer="blue cross of texas")
    plain_page.locator("#af-verify-card_front").set_input_files(str(png))

    plain_page.locator(VERIFY).get_by_role("button", name="Verify my insurance").click()

    _thank_you_reference(plain_page)
    submission = Submission.objects.get()
    assert submission.insurance_provider_text == "blue cross of texas"
    assert submission.card_images.count() == 1


def test_a_book_signup_lands_on_the_thank_you_page(plain_page: Any, live_server: Any) -> None:
    plain_page.goto(f"{live_server.url}{DEMO}")
    fill_book(plain_page)

    plain_page.locator(BOOK).get_by_role("button", name="Send me the book").click()

    _thank_you_reference(plain_page)
    assert "inbox" in plain_page.locator("main").inner_text()
    assert Submission.objects.get().kind == Submission.Kind.BOOK


def test_a_crisis_message_lands_on_a_page_showing_988(plain_page: Any, live_server: Any) -> None:
    plain_page.goto(f"{live_server.url}{DEMO}")
    fill_contact(plain_page, message="my daughter overdosed and i dont know what to do")

    plain_page.locator(CONTACT).get_by_role("button", name="Send message").click()

    _thank_you_reference(plain_page)
    crisis = plain_page.locator("[role=alert]")
    assert crisis.locator('a[href="tel:988"]').is_visible()
    assert crisis.locator('a[href="tel:911"]').is_visible()


def test_a_400_is_a_page_naming_the_field_with_a_link_back(
    plain_page: Any, live_server: Any
) -> None:
    plain_page.goto(f"{live_server.url}{DEMO}")
    fill_contact(plain_page)
    plain_page.locator(f"{CONTACT} [name=phone]").fill("12")

    plain_page.locator(CONTACT).get_by_role("button", name="Send message").click()

    problems = plain_page.locator(".problems")
    assert "Phone:" in problems.inner_text()
    assert "Enter a phone number" in problems.inner_text()
    back = plain_page.get_by_role("link", name="Go back to the form")
    assert back.get_attribute("href") == f"{live_server.url}{DEMO}"
    assert not Submission.objects.exists()


@pytest.mark.parametrize("form", [CONTACT, VERIFY, BOOK])
def test_the_honeypot_is_hidden_without_javascript_too(
    plain_page: Any, live_server: Any, form: str
) -> None:
    plain_page.goto(f"{live_server.url}{DEMO}")

    trap = plain_page.locator(f'{form} input[name="website"]')
    assert trap.is_hidden()
    assert trap.get_attribute("tabindex") == "-1"
