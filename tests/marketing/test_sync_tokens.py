"""Sync tokens are standing access to the contact lists: only staff who may add tokens create
or revoke them, and both are audit rows (never the secret)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from apps.marketing.models import ExportDestination, ExportToken
from apps.marketing.services import export_token_create
from apps.privacy.models import AuditEvent
from tests.conftest import staff_client_for

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/marketing/exporttoken/add/"
LIST_URL = "/admin/marketing/exporttoken/"


@pytest.fixture
def destination() -> ExportDestination:
    return ExportDestination.objects.create(name="Mail platform")


@pytest.fixture
def viewer(django_user_model: type[User]) -> Client:
    """May export and see tokens, but was not given the right to add them."""
    user = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    for codename in ("export_contacts", "view_exporttoken"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return staff_client_for(user)


def test_staff_who_may_not_add_tokens_cannot_post_one(
    viewer: Client, destination: ExportDestination
) -> None:
    response = viewer.post(ADD_URL, {"name": "mine", "destination": destination.pk})
    assert response.status_code == 403
    assert not ExportToken.objects.exists()


def test_staff_who_may_not_add_tokens_cannot_revoke_them(
    viewer: Client, destination: ExportDestination
) -> None:
    token, _ = export_token_create(name="sync", destination=destination, actor=None)
    viewer.post(LIST_URL, {"action": "revoke", "_selected_action": [token.pk], "index": 0})
    token.refresh_from_db()
    assert token.revoked_at is None


def test_creating_and_revoking_a_token_are_audited(
    marketer: User, destination: ExportDestination
) -> None:
    group = marketer.groups.get()
    group.permissions.add(Permission.objects.get(codename="add_exporttoken"))
    client = staff_client_for(marketer)
    page = client.post(ADD_URL, {"name": "mailchimp", "destination": destination.pk})
    raw = page.content.decode().split('<code id="sync-token">')[1].split("</code>")[0]
    token = ExportToken.objects.get()

    response = client.post(LIST_URL, {"action": "revoke", "_selected_action": [token.pk]})

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    events = list(
        AuditEvent.objects.filter(
            action="permission_change", target_type__model="exporttoken"
        ).order_by("pk")
    )
    assert [e.details["change"] for e in events] == ["sync token created", "sync token revoked"]
    assert all(e.actor == marketer and e.target_id == str(token.pk) for e in events)
    assert events[0].details["destination"] == "Mail platform"
    assert events[0].details["include_inquiries"] is False
    assert all(raw not in repr(e.details) and raw not in e.target_label for e in events)
