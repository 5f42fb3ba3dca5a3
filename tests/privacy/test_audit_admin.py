"""Compliance browses, filters, searches and exports the audit log; the export is itself
audited; nobody adds, edits or deletes a row through the admin."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from apps.leads.models import Submission
from apps.privacy.models import AuditEvent
from apps.privacy.services import audit_record
from tests.conftest import staff_client_for

pytestmark = pytest.mark.django_db
URL = "/admin/privacy/auditevent/"


@pytest.fixture
def compliance() -> Client:
    officer = User.objects.create_user("officer", password="x" * 14, is_staff=True)
    officer.groups.add(Group.objects.get(name="Compliance"))
    return staff_client_for(officer)


@pytest.fixture
def reveals(make_submission: Callable[..., Submission]) -> list[AuditEvent]:
    casey = User.objects.create_user("casey", is_staff=True)
    return [
        audit_record(
            actor=casey,
            action=AuditEvent.Action.PHI_REVEAL,
            target=make_submission(),
            fields=["member_id"],
            reason="payer call",
        )
        for _ in range(3)
    ]


def test_compliance_filters_by_action_and_searches_by_reference(
    compliance: Client, reveals: list[AuditEvent]
) -> None:
    by_action = compliance.get(URL, {"action__exact": "phi_reveal"})
    by_reference = compliance.get(URL, {"q": reveals[1].target_label})

    assert by_action.status_code == 200
    assert all(e.target_label in by_action.content.decode() for e in reveals)
    listed = list(by_reference.context["cl"].result_list)
    assert [e.pk for e in listed] == [reveals[1].pk]
    casey = compliance.get(URL, {"actor__id__exact": reveals[0].actor_id})
    assert {e.action for e in casey.context["cl"].result_list} <= {
        "phi_reveal",
        "permission_change",
    }


def test_the_csv_export_holds_the_rows_and_is_itself_audited(
    compliance: Client, reveals: list[AuditEvent]
) -> None:
    response = compliance.post(
        URL + "?action__exact=phi_reveal",
        {"action": "export_csv", "_selected_action": [e.pk for e in reveals]},
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [int(r["id"]) for r in rows] == [e.pk for e in reveals]
    assert rows[0]["hash"] == reveals[0].hash
    export = AuditEvent.objects.get(action="audit_export")
    assert export.actor_username == "officer"
    assert export.details["rows"] == 3
    assert export.details["filters"] == {"action__exact": "phi_reveal"}


def test_nobody_adds_changes_or_deletes_through_the_admin(
    admin_client: Client, reveals: list[AuditEvent]
) -> None:
    event = reveals[0]

    assert admin_client.get(URL + "add/").status_code == 403
    admin_client.post(f"{URL}{event.pk}/change/", {"reason": "rewritten"})
    delete = admin_client.post(f"{URL}{event.pk}/delete/", {"post": "yes"})
    bulk = admin_client.post(URL, {"action": "delete_selected", "_selected_action": [event.pk]})

    assert delete.status_code == 403
    assert bulk.status_code in (200, 302)
    event.refresh_from_db()
    assert event.reason == "payer call"
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_admissions_cannot_open_the_audit_log(reveals: list[AuditEvent]) -> None:
    coordinator = User.objects.create_user("coord", is_staff=True)
    coordinator.groups.add(Group.objects.get(name="Admissions"))

    assert staff_client_for(coordinator).get(URL).status_code == 403
