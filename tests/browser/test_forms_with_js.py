"""The three forms with the kit's script, in a real browser, against the live API."""

from __future__ import annotations

from typing import Any

import pytest

from apps.leads.models import Consent, Submission
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


def _open(page: Any, live_server: Any, query: str = "") -> None:
    page.goto(f"{live_server.url}{DEMO}{query}")
    page.wait_for_selector(f"{VERIFY}[data-enhanced]")


def _reference_shown(page: Any) -> str:
    reference = page.locator(".af-success .af-reference")
    reference.wait_for()
    return str(reference.inner_text())


def test_it_sends_a_contact_message_and_shows_the_reference(page: Any, live_server: Any) -> None:
    _open(page, live_server)
    fill_contact(page)

    page.locator(CONTACT).get_by_role("button", name="Send message").click()

    reference = _reference_shown(page)
    submission = Submission.objects.get()
    assert submission.reference == reference
    assert submission.kind == Submission.Kind.CONTACT
    assert not submission.is_spam
    assert submission.page_url.startswith(f"{live_server.url}{DEMO}")
    assert page.locator(".af-success").evaluate("node => node === document.activeElement")
    consent = Consent.objects.get(channel=Consent.Channel.CALLS)
    assert consent.action == Consent.Action.GRANTED
    # The wording stored is the wording shown beside the boxes.
    shown = page.locator(f"{CONTACT} fieldset.af-consent").evaluate(
        "node => Array.from(node.querySelectorAll('[data-consent-part]'))"
        ".map(part => part.textContent).join(' ').replace(/\\s+/g, ' ').trim()"
    )
    assert consent.wording.text == shown


def test_the_insurance_dropdown_lists_in_network_payers_first(page: Any, live_server: Any) -> None:
    _open(page, live_server)
    # The text box becomes a dropdown once the payer list has arrived: wait for that, or the
    # first locator below may still resolve to the text box.
    page.wait_for_selector("select#af-verify-insurance_provider optgroup", state="attached")
    select = page.locator("#af-verify-insurance_provider")

    groups = select.locator("optgroup").evaluate_all("nodes => nodes.map(node => node.label)")
    last = select.locator("option").last.inner_text()

    assert select.evaluate("node => node.tagName") == "SELECT"
    assert groups == ["In network with us", "Other plans"]
    assert "Aetna" in select.locator("optgroup").first.inner_text()
    assert last == "Other / not listed"
    assert page.locator("#af-verify-insurance_provider_text").is_hidden()


def test_it_sends_a_verification_with_a_chosen_payer(page: Any, live_server: Any) -> None:
    _open(page, live_server)
    fill_verification(page, payer="Aetna")

    page.locator(VERIFY).get_by_role("button", name="Verify my insurance").click()

    _reference_shown(page)
    submission = Submission.objects.get()
    assert submission.kind == Submission.Kind.VERIFICATION
    assert submission.payer is not None
    assert submission.payer.slug == "aetna"


def test_other_not_listed_lets_the_person_type_the_name(page: Any, live_server: Any) -> None:
    _open(page, live_server)
    fill_verification(page, payer="Other / not listed")
    typed = page.locator("#af-verify-insurance_provider_text")
    typed.fill("Oscar Health")

    page.locator(VERIFY).get_by_role("button", name="Verify my insurance").click()

    _reference_shown(page)
    assert Submission.objects.get().insurance_provider_text == "Oscar Health"


def test_a_loved_ones_verification_asks_for_the_patients_name(page: Any, live_server: Any) -> None:
    _open(page, live_server)
    patient = page.locator("#af-verify-patient_first_name")
    assert patient.is_hidden()
    fill_verification(page, payer="Cigna Healthcare")
    page.get_by_label("A loved one").check()

    page.locator(VERIFY).get_by_role("button", name="Verify my insurance").click()

    error = page.locator("#af-verify-patient_first_name-error")
    assert error.inner_text() == "Required when seeking treatment for a loved one."
    assert not Submission.objects.exists()
    patient.fill("Jordan")
    page.locator("#af-verify-patient_last_name").fill("Okafor")
    page.locator(VERIFY).get_by_role("button", name="Verify my insurance").click()
    _reference_shown(page)
    assert Submission.objects.get().patient_first_name == "Jordan"


def test_it_sends_a_book_signup(page: Any, live_server: Any) -> None:
    _open(page, live_server)
    fill_book(page)

    page.locator(BOOK).get_by_role("button", name="Send me the book").click()

    _reference_shown(page)
    assert Submission.objects.get().kind == Submission.Kind.BOOK


def test_a_400_from_the_server_is_shown_next_to_the_field(page: Any, live_server: Any) -> None:
    _open(page, live_server)
    fill_contact(page)
    # Passes the script's loose check (a "+" and enough digits), not the server's.
    page.locator(f"{CONTACT} [name=phone]").fill("+999 1234 5678")

    page.locator(CONTACT).get_by_role("button", name="Send message").click()

    error = page.locator("#af-contact-phone-error")
    error.wait_for()
    assert "Enter a phone number" in error.inner_text()
    phone = page.locator("#af-contact-phone")
    assert phone.get_attribute("aria-invalid") == "true"
    assert "af-contact-phone-error" in (phone.get_attribute("aria-describedby") or "")
    assert phone.evaluate("node => node === document.activeElement")
    assert page.locator("#af-contact-summary").inner_text() == "Please fix the field marked above."
    assert page.locator("#af-contact-first_name-error").inner_text() == ""
    assert not Submission.objects.exists()


def test_missing_fields_are_caught_before_sending(page: Any, live_server: Any) -> None:
    _open(page, live_server)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.method))

    page.locator(VERIFY).get_by_role("button", name="Verify my insurance").click()

    assert page.locator("#af-verify-first_name-error").inner_text() == "This field is required."
    assert page.locator("#af-verify-member_id-error").inner_text() == "This field is required."
    assert "POST" not in requests


def test_a_double_click_stores_one_submission(page: Any, live_server: Any) -> None:
    _open(page, live_server)
    fill_contact(page)
    posts: list[str] = []
    page.on(
        "request",
        lambda request: (
            posts.append(request.headers.get("idempotency-key", ""))
            if request.method == "POST"
            else None
        ),
    )

    page.locator(CONTACT).get_by_role("button", name="Send message").dblclick()

    _reference_shown(page)
    assert Submission.objects.count() == 1
    assert len(posts) >= 1
    assert all(key == posts[0] and len(key) == 36 for key in posts)


def test_a_crisis_message_shows_988_prominently(page: Any, live_server: Any) -> None:
    _open(page, live_server)
    fill_contact(page, message="I can't do this anymore, I want to kill myself.")

    page.locator(CONTACT).get_by_role("button", name="Send message").click()

    crisis = page.locator(".af-success .af-crisis[role=alert]")
    crisis.wait_for()
    assert crisis.locator('a[href="tel:988"]').is_visible()
    assert crisis.locator('a[href="sms:988"]').is_visible()
    assert crisis.locator('a[href="tel:911"]').is_visible()
    assert Submission.objects.get().urgency == Submission.Urgency.URGENT


def test_utm_parameters_of_the_landing_page_arrive_with_the_submission(
    page: Any, live_server: Any
) -> None:
    # The visitor lands on a campaign URL, then moves to the form page without the parameters.
    page.goto(
        f"{live_server.url}/forms/thank-you/?utm_source=newsletter&utm_medium=email"
        "&utm_campaign=spring&gclid=G-123&fbclid=F-456"
    )
    page.add_script_tag(url=f"{live_server.url}/static/website/asana-forms.v1.js")
    page.wait_for_function("sessionStorage.getItem('asanaForms.attribution.v1') !== null")
    _open(page, live_server)
    fill_book(page)

    page.locator(BOOK).get_by_role("button", name="Send me the book").click()

    _reference_shown(page)
    submission = Submission.objects.get()
    assert (submission.utm_source, submission.utm_medium, submission.utm_campaign) == (
        "newsletter",
        "email",
        "spring",
    )
    assert (submission.gclid, submission.fbclid) == ("G-123", "F-456")
    assert submission.page_url == f"{live_server.url}{DEMO}"


def test_a_form_sent_faster_than_a_human_is_set_aside_quietly(
    page: Any, live_server: Any, settings: Any
) -> None:
    settings.FORMS_MIN_FILL_SECONDS = 30
    _open(page, live_server)
    fill_book(page)

    page.locator(BOOK).get_by_role("button", name="Send me the book").click()

    _reference_shown(page)
    submission = Submission.objects.get()
    assert submission.spam_reason == Submission.SpamReason.TOO_FAST


def test_a_card_photo_over_the_limit_is_refused_before_upload(
    page: Any, live_server: Any, tmp_path: Any
) -> None:
    _open(page, live_server)
    card = page.locator("#af-verify-card_front")
    assert card.get_attribute("capture") == "environment"
    assert "application/pdf" in (card.get_attribute("accept") or "")
    assert "at most 10 MB" in page.locator("#af-verify-card-hint").inner_text()

    # A path, not a buffer: the browser reads the file itself (11 MB over the wire is slow).
    photo = tmp_path / "card.jpg"
    photo.write_bytes(b"\xff\xd8\xff" + b"\0" * (11 * 1024 * 1024))
    card.set_input_files(str(photo))

    error = page.locator("#af-verify-card_front-error")
    assert "the limit is 10 MB" in error.inner_text()


def test_the_honeypot_is_never_visible_or_focusable(page: Any, live_server: Any) -> None:
    _open(page, live_server)
    traps = page.locator('input[name="website"]')
    assert traps.count() == 3
    for index in range(3):
        assert traps.nth(index).is_hidden()

    focused = set()
    for _ in range(120):
        page.keyboard.press("Tab")
        focused.add(page.evaluate("document.activeElement && document.activeElement.name"))
    assert "website" not in focused
    assert "first_name" in focused  # the walk did reach the forms


def test_a_retry_after_a_lost_answer_stores_one_submission(page: Any, live_server: Any) -> None:
    _open(page, live_server)
    fill_contact(page)
    attempts: list[str] = []

    def lose_the_first_answer(route: Any) -> None:
        attempts.append(route.request.headers.get("idempotency-key", ""))
        if len(attempts) == 1:
            route.fetch()  # the server stores it...
            route.abort("connectionreset")  # ...and the answer never arrives
        else:
            route.continue_()

    page.route("**/api/v1/contact-requests/", lose_the_first_answer)
    button = page.locator(CONTACT).get_by_role("button", name="Send message")

    button.click()
    summary = page.locator("#af-contact-summary")
    summary.get_by_text("We could not reach our server").wait_for()
    assert button.is_enabled()
    button.click()

    reference = _reference_shown(page)
    assert attempts[0] == attempts[1]
    assert Submission.objects.count() == 1
    assert Submission.objects.get().reference == reference
