"""People made the way the website makes them: posted through the real intake API."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from rest_framework.test import APIClient

from apps.leads.models import Person
from tests.conftest import BOOK_PATH, CONTACT_PATH, VERIFICATION_PATH, staff_client_for

_numbers = itertools.count(1)

PostPerson = Callable[..., Person]


@pytest.fixture
def post_person(api_client: APIClient) -> PostPerson:
    """Post a form and return its person. ``kind`` is book, contact or verification."""

    def post(kind: str = "book", **fields: Any) -> Person:
        n = next(_numbers)
        body: dict[str, Any] = {
            "first_name": f"Reader{n}",
            "last_name": f"Lastname{n}",
            "email": f"reader{n}@example.org",
            "consent_email": True,
            "consent_text": "Send me the book and the newsletter.",
            "utm_source": "newsletter",
            "utm_medium": "email",
            "utm_campaign": "spring-book",
            "page_url": "https://asanarecovery.com/free-book/?utm_source=newsletter",
        }
        if kind == "contact":
            body["message"] = "Hello"
        body.update(fields)
        body = {k: v for k, v in body.items() if v is not None}
        path = {"book": BOOK_PATH, "contact": CONTACT_PATH, "verification": VERIFICATION_PATH}[kind]
        response = api_client.post(path, body, format="json")
        assert response.status_code == 201, response.content
        if body.get("email"):
            return Person.objects.get(email=str(body["email"]).lower())
        return Person.objects.order_by("-pk").first()  # type: ignore[return-value]

    return post


@pytest.fixture
def marketer() -> User:
    """A Marketing staff member with the export and report permissions, nothing else."""
    group, _ = Group.objects.get_or_create(name="Marketing")
    for codename in ("export_contacts", "view_attribution_report", "view_exportrun"):
        group.permissions.add(Permission.objects.get(codename=codename))
    user = User.objects.create_user("marketer", password="x", is_staff=True)
    user.groups.add(group)
    return user


@pytest.fixture
def marketer_client(marketer: User) -> Client:
    return staff_client_for(marketer)
