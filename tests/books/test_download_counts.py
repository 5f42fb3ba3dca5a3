"""Downloads are counted per signup and in all, and shown per day in a read-only admin."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient
from time_machine import TimeMachineFixture

from apps.books.exceptions import BookLinkInvalid
from apps.books.models import BookDownload
from apps.books.selectors import book_download_count, book_download_counts_per_day
from apps.books.services import book_download_record
from apps.leads.models import Submission
from tests.conftest import BOOK_PATH, staff_client_for

pytestmark = pytest.mark.django_db

NOON = datetime.datetime(2025, 3, 3, 20, 0, tzinfo=datetime.UTC)  # noon in Los Angeles


@pytest.fixture
def two_signups(api_client: APIClient) -> tuple[Submission, Submission]:
    for first_name, email in (("Lee", "lee@example.org"), ("Ari", "ari@example.org")):
        api_client.post(BOOK_PATH, {"first_name": first_name, "email": email}, format="json")
    lee = Submission.objects.get(first_name="Lee")
    ari = Submission.objects.get(first_name="Ari")
    return lee, ari


@pytest.fixture
def staff_client(admin_user: User) -> Client:
    return staff_client_for(admin_user)


def test_downloads_are_counted_per_signup_and_in_all(
    two_signups: tuple[Submission, Submission],
) -> None:
    lee, ari = two_signups
    for _ in range(2):
        book_download_record(submission_id=lee.pk, user_agent="Mail")
    book_download_record(submission_id=ari.pk, user_agent="")

    assert book_download_count(submission_id=lee.pk) == 2
    assert book_download_count(submission_id=ari.pk) == 1
    assert book_download_count() == 3


def test_recording_a_download_for_an_unknown_signup_raises() -> None:
    with pytest.raises(BookLinkInvalid):
        book_download_record(submission_id=987_654_321, user_agent="Mail")

    assert not BookDownload.objects.exists()


def test_downloads_are_counted_per_day_in_the_centers_time_zone(
    two_signups: tuple[Submission, Submission], time_machine: TimeMachineFixture
) -> None:
    lee, ari = two_signups
    time_machine.move_to(NOON - datetime.timedelta(days=1), tick=False)
    book_download_record(submission_id=lee.pk, user_agent="")
    time_machine.move_to(NOON, tick=False)
    book_download_record(submission_id=lee.pk, user_agent="")
    book_download_record(submission_id=ari.pk, user_agent="")
    # 23:30 in Los Angeles is already the next day in UTC; it still counts for March 3.
    time_machine.move_to(NOON + datetime.timedelta(hours=11, minutes=30), tick=False)
    book_download_record(submission_id=ari.pk, user_agent="")

    days = [(row.day, row.downloads) for row in book_download_counts_per_day(days=30)]

    assert days == [(datetime.date(2025, 3, 3), 3), (datetime.date(2025, 3, 2), 1)]


def test_the_admin_lists_downloads_with_counts_per_day(
    staff_client: Client, two_signups: tuple[Submission, Submission]
) -> None:
    lee, _ = two_signups
    book_download_record(submission_id=lee.pk, user_agent="Mozilla/5.0 (Reader)")

    response = staff_client.get("/admin/books/bookdownload/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Downloads per day, last 30 days (1 in all)" in html
    assert lee.reference in html
    assert "Mozilla/5.0 (Reader)" in html
    assert "lee@example.org" not in html


def test_nobody_can_add_change_or_delete_downloads_in_admin(
    staff_client: Client, two_signups: tuple[Submission, Submission]
) -> None:
    lee, _ = two_signups
    book_download_record(submission_id=lee.pk, user_agent="Mail")
    download = BookDownload.objects.get()

    assert staff_client.get("/admin/books/bookdownload/add/").status_code == 403
    staff_client.post(f"/admin/books/bookdownload/{download.pk}/delete/", {"post": "yes"})
    staff_client.post(f"/admin/books/bookdownload/{download.pk}/change/", {"user_agent": "changed"})

    download.refresh_from_db()
    assert download.user_agent == "Mail"
