"""GET /books/download/<token>/: a signed link streams the book and counts the download."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.test import Client
from time_machine import TimeMachineFixture

from apps.books.links import book_download_token
from apps.books.models import BookDownload
from apps.books.selectors import book_download_count
from apps.books.services import book_download_url
from apps.leads.models import Submission
from tests.books.conftest import local_path

pytestmark = pytest.mark.django_db

START = datetime.datetime(2025, 3, 1, 9, 0, tzinfo=datetime.UTC)


def _content(response: object) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_a_valid_link_downloads_the_pdf(client: Client, book_signup: Submission) -> None:
    response = client.get(local_path(book_download_url(submission_id=book_signup.pk)))

    assert response.status_code == 200
    assert _content(response).startswith(b"%PDF-")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="meet-the-book-thats-changing-lives.pdf"'
    )
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_download_is_counted(client: Client, book_signup: Submission) -> None:
    url = local_path(book_download_url(submission_id=book_signup.pk))

    client.get(url, headers={"user-agent": "Mozilla/5.0 " + "x" * 600})

    assert book_download_count(submission_id=book_signup.pk) == 1
    download = BookDownload.objects.get()
    assert download.submission_id == book_signup.pk
    assert download.user_agent.startswith("Mozilla/5.0 ")
    assert len(download.user_agent) == 255


def test_the_link_serves_the_configured_book_file(
    client: Client, book_signup: Submission, tmp_path: object, settings: object
) -> None:
    book = tmp_path / "real-book.pdf"  # type: ignore[operator]
    book.write_bytes(b"%PDF-1.7\nthe real book\n%%EOF\n")
    settings.BOOK_FILE = str(book)  # type: ignore[attr-defined]

    response = client.get(local_path(book_download_url(submission_id=book_signup.pk)))

    assert _content(response) == b"%PDF-1.7\nthe real book\n%%EOF\n"


def test_a_link_still_works_just_before_it_expires(
    client: Client, book_signup: Submission, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(START, tick=False)
    url = local_path(book_download_url(submission_id=book_signup.pk))

    hours = settings.BOOK_LINK_MAX_AGE_HOURS
    time_machine.move_to(START + datetime.timedelta(hours=hours, seconds=-1), tick=False)
    response = client.get(url)

    assert response.status_code == 200


def test_an_expired_link_answers_410_with_how_to_get_a_new_one(
    client: Client, book_signup: Submission, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(START, tick=False)
    url = local_path(book_download_url(submission_id=book_signup.pk))

    hours = settings.BOOK_LINK_MAX_AGE_HOURS
    time_machine.move_to(START + datetime.timedelta(hours=hours, seconds=1), tick=False)
    response = client.get(url)

    assert response.status_code == 410
    html = response.content.decode()
    assert "expired" in html
    assert "sign up for the book again" in html
    assert settings.CENTER_PHONE in html
    assert response["Cache-Control"] == "private, no-store"
    assert book_download_count() == 0


def test_a_tampered_link_answers_404(client: Client, book_signup: Submission) -> None:
    token = book_download_token(submission_id=book_signup.pk)
    payload, timestamp, signature = token.split(":")
    other = book_download_token(submission_id=book_signup.pk + 1).split(":")[0]

    for forged in (
        f"{other}:{timestamp}:{signature}",
        f"{payload}:{timestamp}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        payload,
        "not-a-token",
    ):
        response = client.get(f"/books/download/{forged}/")

        assert response.status_code == 404, forged
        assert "could not find this link" in response.content.decode()
    assert book_download_count() == 0


def test_a_link_signed_with_another_salt_answers_404(
    client: Client, book_signup: Submission
) -> None:
    from django.core import signing

    token = signing.dumps({"s": book_signup.pk}, salt="followups.unsubscribe")

    response = client.get(f"/books/download/{token}/")

    assert response.status_code == 404


def test_a_link_for_an_unknown_signup_answers_404(client: Client) -> None:
    url = local_path(book_download_url(submission_id=987_654_321))

    response = client.get(url)

    assert response.status_code == 404
    assert book_download_count() == 0


def test_a_missing_book_file_answers_503_and_counts_nothing(
    client: Client, book_signup: Submission, tmp_path: object, settings: object
) -> None:
    settings.BOOK_FILE = str(tmp_path / "missing.pdf")  # type: ignore[attr-defined, operator]

    response = client.get(local_path(book_download_url(submission_id=book_signup.pk)))

    assert response.status_code == 503
    assert response["Retry-After"] == "300"
    assert book_download_count() == 0


def test_only_get_is_allowed(client: Client, book_signup: Submission) -> None:
    url = local_path(book_download_url(submission_id=book_signup.pk))

    response = client.post(url)

    assert response.status_code == 405
    assert book_download_count() == 0
