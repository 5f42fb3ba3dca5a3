"""The read-only submission admin shows PHI masked and lets nobody change a submission."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from apps.leads.models import Submission
from tests.conftest import VERIFICATION_PATH, staff_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(admin_user: User) -> Client:
    return staff_client_for(admin_user)


@pytest.fixture
def verification(api_client: APIClient, verification_body: dict[str, Any]) -> Submission:
    api_client.post(
        VERIFICATION_PATH,
        {**verification_body, "member_id": "ZQ99887766", "message": "ZZ private words"},
        format="json",
    )
    return Submission.objects.get()


def test_the_change_page_masks_phi(staff_client: Client, verification: Submission) -> None:
    response = staff_client.get(f"/admin/leads/submission/{verification.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert verification.reference in html
    assert "•••• 7766" in html
    for plain in ("ZQ99887766", "ZZ private words", "1988-06-02", "June 2, 1988", "GRP-0042"):
        assert plain not in html


def test_the_list_shows_the_submission(staff_client: Client, verification: Submission) -> None:
    response = staff_client.get("/admin/leads/submission/")

    assert response.status_code == 200
    assert verification.reference in response.content.decode()
    assert "ZQ99887766" not in response.content.decode()


def test_nobody_can_change_or_delete_a_submission_here(
    staff_client: Client, verification: Submission
) -> None:
    url = f"/admin/leads/submission/{verification.pk}/"
    staff_client.post(url + "change/", {"first_name": "Changed"})
    delete = staff_client.post(url + "delete/", {"post": "yes"})

    assert delete.status_code == 403
    verification.refresh_from_db()
    assert verification.first_name == "Sam"


def test_staff_can_log_a_touch_from_the_list(
    staff_client: Client, verification: Submission
) -> None:
    response = staff_client.post(
        "/admin/leads/submission/",
        {"action": "log_touch", "_selected_action": [verification.pk]},
        follow=True,
    )

    assert response.status_code == 200
    verification.refresh_from_db()
    assert verification.first_touched_at is not None


def test_staff_can_record_a_revocation_heard_on_the_phone(
    staff_client: Client, verification: Submission
) -> None:
    from apps.followups.models import Suppression
    from apps.leads.models import Person

    person = verification.person
    Person.objects.filter(pk=person.pk).update(consent_sms=True)

    response = staff_client.post(
        "/admin/leads/person/",
        {"action": "revoke_sms", "_selected_action": [person.pk]},
        follow=True,
    )

    assert response.status_code == 200
    person.refresh_from_db()
    assert person.consent_sms is False
    assert person.consents.filter(channel="sms", action="revoked", source="staff").exists()
    assert Suppression.objects.filter(kind="phone", value=person.phone).exists()
