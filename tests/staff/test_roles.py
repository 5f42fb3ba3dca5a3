"""Each role sees and does in the admin exactly what DESIGN.md (Roles) gives it; Marketing
reaches no PHI by any page, search, filter, action or export."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.db import models
from django.test import Client
from rest_framework.test import APIClient

from apps.leads.models import Submission
from apps.privacy.models import AuditEvent
from apps.privacy.services import audit_record
from apps.staff.roles import ROLE_PERMISSIONS
from apps.staff.services import roles_sync
from tests.conftest import VERIFICATION_PATH, staff_client_for

pytestmark = pytest.mark.django_db

ROLES = ("Admissions", "Manager", "Marketing", "Compliance")
# Models whose rows carry PHI or lead to it (names, DOB, member IDs, messages, card images,
# texts, who looked at which lead).
PHI_MODELS = {
    "leads.person",
    "leads.submission",
    "leads.consent",
    "leads.cardimage",
    "followups.outboxmessage",
    "followups.outboxattempt",
    "followups.inboundtext",
    "followups.suppression",
    "privacy.auditevent",
}


def _granted(role: str) -> set[str]:
    return set(ROLE_PERMISSIONS[role])


def _registered() -> list[type[models.Model]]:
    return sorted(admin.site._registry, key=lambda model: model._meta.label_lower)


@pytest.fixture
def verification(api_client: APIClient, verification_body: dict[str, Any]) -> Submission:
    response = api_client.post(VERIFICATION_PATH, verification_body, format="json")
    assert response.status_code == 201
    return Submission.objects.get()


@pytest.fixture
def client_for(make_staff: Callable[..., User]) -> Callable[[str], Client]:
    def make(role: str) -> Client:
        return staff_client_for(make_staff(role.lower(), role))

    return make


def test_the_four_groups_hold_exactly_the_installed_part_of_the_map() -> None:
    for role in ROLES:
        group = Group.objects.get(name=role)
        held = {
            f"{app}.{codename}"
            for app, codename in group.permissions.values_list(
                "content_type__app_label", "codename"
            )
        }
        installed = {
            dotted
            for dotted in ROLE_PERMISSIONS[role]
            if Permission.objects.filter(
                content_type__app_label=dotted.split(".")[0], codename=dotted.split(".")[1]
            ).exists()
        }
        assert held == installed, role
        assert "leads.reveal_phi" not in held or role in ("Admissions", "Manager")


def test_roles_sync_takes_away_what_was_added_by_hand_and_restores_what_was_removed() -> None:
    marketing = Group.objects.get(name="Marketing")
    marketing.permissions.add(Permission.objects.get(codename="view_submission"))
    manager = Group.objects.get(name="Manager")
    manager.permissions.remove(Permission.objects.get(codename="view_auditevent"))

    roles_sync()

    assert not marketing.permissions.filter(codename="view_submission").exists()
    assert manager.permissions.filter(codename="view_auditevent").exists()


def test_roles_sync_creates_a_missing_custom_permission() -> None:
    Permission.objects.filter(codename="reveal_phi").delete()

    report = roles_sync()

    permission = Permission.objects.get(codename="reveal_phi")
    assert permission.content_type.model == "submission"
    assert Group.objects.get(name="Admissions").permissions.filter(pk=permission.pk).exists()
    assert "leads.reveal_phi" in report.granted["Admissions"]


def test_roles_sync_leaves_out_permissions_of_apps_not_installed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO", logger="apps.staff.services")

    report = roles_sync()

    missing = {d for d in ROLE_PERMISSIONS["Marketing"] if d.startswith("marketing.")}
    if missing and not Permission.objects.filter(content_type__app_label="marketing").exists():
        assert missing <= set(report.skipped)
        assert "not granted yet" in caplog.text


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_the_lists_its_permissions_open(
    role: str, client_for: Callable[[str], Client], verification: Submission
) -> None:
    client = client_for(role)
    granted = _granted(role)
    for model in _registered():
        meta = model._meta
        url = f"/admin/{meta.app_label}/{meta.model_name}/"
        may_see = bool(
            {
                f"{meta.app_label}.view_{meta.model_name}",
                f"{meta.app_label}.change_{meta.model_name}",
            }
            & granted
        )

        status = client.get(url).status_code

        assert status == (200 if may_see else 403), f"{role} {url}: {status}"


@pytest.mark.parametrize("role", ROLES)
def test_no_role_but_a_superuser_adds_changes_or_deletes_outside_its_map(
    role: str, client_for: Callable[[str], Client], verification: Submission
) -> None:
    client = client_for(role)
    granted = _granted(role)
    for model in _registered():
        meta = model._meta
        if f"{meta.app_label}.add_{meta.model_name}" in granted:
            continue
        assert client.get(f"/admin/{meta.app_label}/{meta.model_name}/add/").status_code in (
            403,
            404,
        ), f"{role} may add {meta.label}"


def test_marketing_reaches_no_phi_by_any_admin_path(
    client_for: Callable[[str], Client], verification: Submission
) -> None:
    client = client_for("Marketing")
    assert verification.person_id is not None
    event = audit_record(actor=None, action=AuditEvent.Action.EXPORT, target=verification)
    objects = {
        "leads.submission": verification.pk,
        "leads.person": verification.person_id,
        "privacy.auditevent": event.pk,
    }
    for label in sorted(PHI_MODELS):
        app_label, model_name = label.split(".")
        base = f"/admin/{app_label}/{model_name}/"
        pk = objects.get(label, 1)
        paths = [
            base,
            base + "?q=Okafor",
            base + "?q=sam.okafor%40example.org",
            base + "?status__exact=failed",
            f"{base}{pk}/change/",
            f"{base}{pk}/history/",
            f"{base}{pk}/delete/",
        ]
        for path in paths:
            response = client.get(path)
            # A missing object redirects to the index before any permission check (Django).
            missing = response.status_code == 302 and response["Location"] == "/admin/"
            assert response.status_code in (403, 404) or missing, f"Marketing reached {path}"
        posted = client.post(base, {"action": "log_touch", "_selected_action": [pk]})
        assert posted.status_code in (403, 404)
    autocomplete = client.get(
        "/admin/autocomplete/",
        {"app_label": "leads", "model_name": "submission", "field_name": "person", "term": "Sam"},
    )
    assert autocomplete.status_code in (403, 404)
    index = client.get("/admin/")
    listed = {
        f"{app['app_label']}.{model['object_name'].lower()}"
        for app in index.context["app_list"]
        for model in app["models"]
    }
    assert listed
    assert not listed & PHI_MODELS
    assert "Okafor" not in index.content.decode()


def test_marketing_pages_it_may_open_show_no_phi(
    client_for: Callable[[str], Client], verification: Submission
) -> None:
    client = client_for("Marketing")
    for label in sorted(_granted("Marketing")):
        app_label, codename = label.split(".")
        if not codename.startswith("view_"):
            continue
        response = client.get(f"/admin/{app_label}/{codename.removeprefix('view_')}/")
        if response.status_code == 404:
            continue  # a model another branch adds
        html = response.content.decode()
        for phi in ("Okafor", "1988-06-02", "U1234", "GRP-0042", "sam.okafor", "555 0199"):
            assert phi not in html, (label, phi)


def test_admissions_work_leads_but_not_the_audit_log_or_the_directory(
    client_for: Callable[[str], Client], verification: Submission
) -> None:
    client = client_for("Admissions")

    assert client.get(f"/admin/leads/submission/{verification.pk}/change/").status_code == 200
    assert client.get("/admin/privacy/auditevent/").status_code == 403
    assert client.get("/admin/payers/payeralias/add/").status_code == 200
    payer_change = client.post("/admin/payers/payer/1/change/", {"name": "Renamed"})
    assert payer_change.status_code in (403, 404)


def test_compliance_reads_the_audit_log_and_leads_but_changes_nothing(
    client_for: Callable[[str], Client], verification: Submission
) -> None:
    client = client_for("Compliance")
    event = audit_record(actor=None, action=AuditEvent.Action.EXPORT, target=verification)

    assert client.get("/admin/privacy/auditevent/").status_code == 200
    assert client.get(f"/admin/privacy/auditevent/{event.pk}/change/").status_code == 200
    assert client.get(f"/admin/leads/submission/{verification.pk}/change/").status_code == 200
    delete = client.post(f"/admin/privacy/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_manager_retries_messages_and_reads_the_audit_log(
    client_for: Callable[[str], Client],
) -> None:
    client = client_for("Manager")

    assert client.get("/admin/privacy/auditevent/").status_code == 200
    assert client.get("/admin/followups/outboxmessage/").status_code == 200
    assert client.get("/admin/followups/sequence/").status_code == 200


def test_migrate_puts_the_roles_back_and_audits_it() -> None:
    from django.core.management import call_command

    marketing = Group.objects.get(name="Marketing")
    marketing.permissions.add(Permission.objects.get(codename="view_submission"))

    call_command("migrate", verbosity=0)

    assert not marketing.permissions.filter(codename="view_submission").exists()
    sync = AuditEvent.objects.filter(details__change="roles_sync").latest("id")
    assert sync.actor is None
    assert sync.details["roles"]["Marketing"] == {"added": [], "removed": ["leads.view_submission"]}


def test_compliance_cannot_run_the_actions_that_work_a_lead(
    client_for: Callable[[str], Client], verification: Submission
) -> None:
    compliance, admissions = client_for("Compliance"), client_for("Admissions")
    working = ("assign_to_me", "log_touch")
    revocations = ("revoke_sms", "revoke_email_sms_calls")

    def offered(client: Client, path: str) -> set[str]:
        page = client.get(path)
        assert page.status_code == 200
        form = page.context.get("action_form")  # None when no action is offered at all
        return {name for name, _ in form.fields["action"].choices} if form else set()

    assert not offered(compliance, "/admin/leads/submission/") & set(working)
    assert not offered(compliance, "/admin/leads/person/") & set(revocations)
    assert set(working) <= offered(admissions, "/admin/leads/submission/")
    assert set(revocations) <= offered(admissions, "/admin/leads/person/")

    refused = compliance.post(
        "/admin/leads/submission/",
        {"action": "log_touch", "_selected_action": [verification.pk]},
    )
    verification.refresh_from_db()
    assert refused.status_code in (200, 302)
    assert verification.first_touched_at is None
