"""A person's consent evidence in the admin shows the form page without its ``user:password@``
part (anyone posting the form can fill it), like the lead page and the attribution report."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.leads.models import Consent, Person
from tests.conftest import BOOK_PATH

pytestmark = pytest.mark.django_db


def test_the_consent_inline_shows_no_userinfo(
    admin_client: Client, api_client: APIClient, book_body: dict[str, Any]
) -> None:
    page_url = "https://jane.doe%40mail.example:hunter2@asanarecovery.com/free-book/"
    response = api_client.post(BOOK_PATH, {**book_body, "page_url": page_url}, format="json")
    assert response.status_code == 201, response.content
    person = Person.objects.get()
    assert Consent.objects.filter(person=person, page_url=page_url).exists()  # kept as posted

    html = admin_client.get(f"/admin/leads/person/{person.pk}/change/").content.decode()

    assert "https://asanarecovery.com/free-book/" in html
    for secret in ("hunter2", "jane.doe%40mail.example"):
        assert secret not in html
