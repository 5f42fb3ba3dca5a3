"""The book email and the drip, rendered from the outbox rows a real signup planned."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.test import Client
from time_machine import TimeMachineFixture

from apps.books.selectors import book_download_count
from apps.followups.models import OutboxMessage
from apps.followups.rendering import message_render
from apps.followups.transports import RenderedMessage
from apps.leads.models import Submission
from tests.books.conftest import SIGNUP, local_path, planned

pytestmark = pytest.mark.django_db

DRIPS = ["book_drip_1", "book_drip_2", "book_drip_3"]
CRISIS_LINE = "If you or someone you love is in danger, call or text 988, or call 911."


def _rendered(submission: Submission, template: str) -> RenderedMessage:
    return message_render(message=planned(submission, template), submission=submission)


def _book_link(text: str) -> str:
    match = re.search(r"\S+/books/download/\S+/", text)
    assert match, text
    return match.group(0)


def _links(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="([^"]+)"', html)


def test_the_book_email_is_planned_at_once_without_consent(book_signup: Submission) -> None:
    message = planned(book_signup, "book_delivery")

    assert message.topic == OutboxMessage.Topic.BOOK_DELIVERY
    assert message.due_at == book_signup.received_at
    assert not OutboxMessage.objects.filter(
        submission=book_signup, topic=OutboxMessage.Topic.DRIP
    ).exists()


def test_the_book_email_carries_the_link_and_the_hours(book_signup: Submission) -> None:
    email = _rendered(book_signup, "book_delivery")

    link = _book_link(email.text)
    assert link.startswith(f"{settings.PUBLIC_BASE_URL}/books/download/")
    assert link in email.html
    hours = f"works for {settings.BOOK_LINK_MAX_AGE_HOURS} hours"
    assert hours in email.text
    assert hours in email.html
    assert email.text.startswith("Hi Lee,")
    assert settings.CENTER_PHONE in email.text
    assert CRISIS_LINE in email.text
    assert email.subject == f"Your free book from {settings.CENTER_NAME}"


def test_the_link_in_the_book_email_downloads_the_book(
    client: Client, book_signup: Submission
) -> None:
    link = _book_link(_rendered(book_signup, "book_delivery").text)

    response = client.get(local_path(link))

    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert book_download_count(submission_id=book_signup.pk) == 1


def test_the_link_is_signed_when_the_email_is_rendered_not_when_planned(
    client: Client, book_signup: Submission, time_machine: TimeMachineFixture
) -> None:
    # The send was delayed (broker down, retries): the reader still gets the full validity.
    hours = settings.BOOK_LINK_MAX_AGE_HOURS
    rendered_at = book_signup.received_at + datetime.timedelta(hours=hours - 1)
    time_machine.move_to(rendered_at, tick=False)
    link = _book_link(_rendered(book_signup, "book_delivery").text)

    time_machine.move_to(rendered_at + datetime.timedelta(hours=hours - 1), tick=False)
    response = client.get(local_path(link))

    assert response.status_code == 200


def test_the_book_email_holds_no_personal_data_but_the_first_name(
    book_signup: Submission,
) -> None:
    email = _rendered(book_signup, "book_delivery")

    whole = "\n".join([email.subject, email.text, email.html, *email.headers.values()])
    assert SIGNUP["first_name"] in whole
    for personal in (SIGNUP["email"], "lee@", "example.org", book_signup.reference):
        assert personal not in whole
    assert book_signup.person.email
    assert book_signup.person.email not in whole


def test_the_book_email_offers_one_click_unsubscribe(book_signup: Submission) -> None:
    email = _rendered(book_signup, "book_delivery")

    unsubscribe = email.headers["List-Unsubscribe"].strip("<>")
    assert unsubscribe in email.text
    assert unsubscribe in email.html
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_book_email_has_no_images_or_outside_links(book_signup: Submission) -> None:
    email = _rendered(book_signup, "book_delivery")

    assert "<img" not in email.html.lower()
    for link in _links(email.html):
        assert link.startswith((settings.PUBLIC_BASE_URL + "/", "tel:")), link


def test_a_name_with_html_stays_plain_in_text_and_escaped_in_html(
    book_signup: Submission,
) -> None:
    Submission.objects.filter(pk=book_signup.pk).update(first_name="Lee <b>&</b> O'Neil")
    book_signup.refresh_from_db()

    email = _rendered(book_signup, "book_delivery")

    assert email.text.startswith("Hi Lee <b>&</b> O'Neil,")
    assert "<b>" not in email.html
    assert "Lee &lt;b&gt;&amp;&lt;/b&gt; O&#x27;Neil" in email.html


def test_the_drip_is_planned_at_days_2_5_and_10_with_consent(
    book_signup_with_consent: Submission,
) -> None:
    days = {
        template: (
            planned(book_signup_with_consent, template).due_at
            - book_signup_with_consent.received_at
        ).days
        for template in DRIPS
    }

    assert days == {"book_drip_1": 2, "book_drip_2": 5, "book_drip_3": 10}


@pytest.mark.parametrize("template", DRIPS)
def test_each_drip_renders_warmly_with_unsubscribe(
    book_signup_with_consent: Submission, template: str
) -> None:
    email = _rendered(book_signup_with_consent, template)

    assert email.subject
    assert email.text.startswith("Hi Lee,")
    assert email.html.startswith("<p>Hi Lee,</p>")
    assert settings.CENTER_PHONE in email.text
    assert CRISIS_LINE in email.text
    unsubscribe = email.headers["List-Unsubscribe"].strip("<>")
    assert f"Unsubscribe: {unsubscribe}" in email.text
    assert unsubscribe in email.html


@pytest.mark.parametrize("template", DRIPS)
def test_no_drip_carries_personal_data_images_or_outside_links(
    book_signup_with_consent: Submission, template: str
) -> None:
    email = _rendered(book_signup_with_consent, template)

    whole = "\n".join([email.subject, email.text, email.html])
    for personal in (SIGNUP["email"], "example.org", book_signup_with_consent.reference):
        assert personal not in whole
    assert "<img" not in email.html.lower()
    for link in _links(email.html):
        assert link.startswith((settings.PUBLIC_BASE_URL + "/", "tel:")), link


def test_the_last_drip_offers_the_free_insurance_check_by_phone(
    book_signup_with_consent: Submission,
) -> None:
    email = _rendered(book_signup_with_consent, "book_drip_3")

    assert "insurance" in email.text
    assert "for free" in email.text
    assert f'href="tel:{settings.CENTER_PHONE}"' in email.html
