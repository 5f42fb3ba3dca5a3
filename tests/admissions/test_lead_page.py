"""The lead page: the person's whole timeline, PHI masked until revealed (and every reveal
audited), the actions, card images through an audited view, and a bounded number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.admissions.models import CallLog, Note, StatusChange, VerificationResult
from apps.admissions.services import Benefits, call_log, note_add, verification_result_record
from apps.leads.models import CardImage, Submission
from apps.privacy.models import AuditEvent
from apps.privacy.phi_files import phi_file_save
from tests.admissions.factories import lead_make
from tests.conftest import VERIFICATION_PATH, staff_client_for

pytestmark = pytest.mark.django_db
MEMBER_ID = "ZQ99887766"


def _page(lead: Submission) -> str:
    return f"/admin/leads/submission/{lead.pk}/change/"


def _act(lead: Submission, action: str) -> str:
    return f"/admin/leads/submission/{lead.pk}/act/{action}/"


@pytest.fixture
def lead(api_client: APIClient, verification_body: dict[str, Any]) -> Submission:
    api_client.post(
        VERIFICATION_PATH,
        {**verification_body, "member_id": MEMBER_ID, "message": "ZZ private words"},
        format="json",
    )
    return Submission.objects.get()


@pytest.fixture
def client(coordinator: User) -> Client:
    return staff_client_for(coordinator)


def test_the_page_masks_phi(client: Client, lead: Submission) -> None:
    html = client.get(_page(lead)).content.decode()

    assert lead.reference in html
    assert "•••• 7766" in html
    for plain in (MEMBER_ID, "ZZ private words", "1988-06-02", "June 2, 1988", "GRP-0042"):
        assert plain not in html


def test_reveal_shows_the_member_id_and_writes_an_audit_row(
    client: Client, lead: Submission, coordinator: User
) -> None:
    response = client.post(_act(lead, "reveal"), {"field": ["member_id"]})

    html = response.content.decode()
    assert response.status_code == 200
    assert MEMBER_ID in html
    assert "ZZ private words" not in html  # only what was asked for
    event = AuditEvent.objects.get(action="phi_reveal")
    assert event.actor == coordinator
    assert event.fields == ["member_id"]
    assert event.target_id == str(lead.pk)
    assert event.ip_address == "127.0.0.1"
    # Reloading masks it again.
    assert MEMBER_ID not in client.get(_page(lead)).content.decode()


def test_reveal_all_shows_notes_and_benefits_with_one_audit_row(
    client: Client, lead: Submission, coordinator: User
) -> None:
    note_add(submission=lead, actor=coordinator, text="Mother is the contact")
    verification_result_record(
        submission=lead,
        actor=coordinator,
        benefits=Benefits(network="in_network", payer_call_reference="REF-5521"),
    )
    masked = client.get(_page(lead)).content.decode()
    assert "Mother is the contact" not in masked
    assert "REF-5521" not in masked

    fields = ["member_id", "message", "notes", "status_reasons", "verification_results"]
    html = client.post(_act(lead, "reveal"), {"field": fields, "reason": "call"}).content.decode()

    for plain in (MEMBER_ID, "ZZ private words", "Mother is the contact", "REF-5521"):
        assert plain in html
    event = AuditEvent.objects.get(action="phi_reveal")
    assert event.fields == fields
    assert event.reason == "call"


def test_a_role_without_reveal_cannot_reveal(auditor: User, lead: Submission) -> None:
    client = staff_client_for(auditor)
    page = client.get(_page(lead))
    assert page.status_code == 200
    assert "Reveal" not in page.content.decode()

    response = client.post(_act(lead, "reveal"), {"field": ["member_id"]})

    assert response.status_code == 403
    assert MEMBER_ID not in response.content.decode()
    assert not AuditEvent.objects.filter(action="phi_reveal").exists()


def test_marketing_reaches_no_lead(marketer: User, lead: Submission) -> None:
    client = staff_client_for(marketer)
    for url in (
        _page(lead),
        "/admin/leads/submission/",
        "/admin/leads/submission/dashboard/",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(_act(lead, "reveal"), {"field": ["member_id"]}).status_code == 403


@pytest.fixture
def phi_dir(tmp_path: Path) -> Iterator[Path]:
    storages = {
        **django_settings.STORAGES,
        "phi": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": None},
        },
    }
    with override_settings(STORAGES=storages):
        yield tmp_path


def test_a_card_image_opens_decrypted_and_audited(
    client: Client, lead: Submission, coordinator: User, phi_dir: Path
) -> None:
    image = b"\x89PNG\r\n\x1a\nfake card bytes"
    card = CardImage.objects.create(
        submission=lead,
        side="front",
        storage_name=phi_file_save(data=image, folder="cards"),
        content_type="image/png",
        size_bytes=len(image),
    )
    assert image not in b"".join(p.read_bytes() for p in phi_dir.rglob("*.bin"))

    response = client.get(f"/admin/leads/submission/{lead.pk}/card/{card.pk}/")

    assert response.status_code == 200
    assert response.content == image
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="card_image_download")
    assert event.actor == coordinator
    assert event.fields == ["card_image_front"]


def test_a_card_image_is_refused_without_reveal(
    auditor: User, lead: Submission, phi_dir: Path
) -> None:
    card = CardImage.objects.create(
        submission=lead,
        side="back",
        storage_name=phi_file_save(data=b"x", folder="cards"),
        content_type="image/png",
        size_bytes=1,
    )
    response = staff_client_for(auditor).get(f"/admin/leads/submission/{lead.pk}/card/{card.pk}/")
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="card_image_download").exists()


def test_actions_from_the_page(client: Client, lead: Submission, coordinator: User) -> None:
    client.post(_act(lead, "assign_to_me"))
    client.post(_act(lead, "note"), {"text": "Spoke to sister"})
    client.post(_act(lead, "call"), {"outcome": "reached", "direction": "outbound", "minutes": 4})
    client.post(_act(lead, "status"), {"from_status": "contacted", "to_status": "verifying"})
    client.post(
        _act(lead, "verification"),
        {
            "network": "out_of_network",
            "plan_type": "ppo",
            "deductible_total": "3000",
            "covered_levels_of_care": ["detox", "iop"],
            "preauthorization_required": "yes",
        },
    )

    lead.refresh_from_db()
    assert lead.assignee_id == coordinator.pk
    assert lead.status == Submission.Status.VERIFIED_OUT_OF_NETWORK
    assert Note.objects.get().text == "Spoke to sister"
    assert CallLog.objects.get().duration_seconds == 240
    assert list(StatusChange.objects.order_by("pk").values_list("to_status", flat=True)) == [
        "contacted",
        "verifying",
        "verified_out_of_network",
    ]
    result = VerificationResult.objects.get()
    assert result.covered_levels == ["detox", "iop"]
    assert result.preauthorization_required == "yes"


def test_closing_without_a_reason_is_a_400_naming_it(client: Client, lead: Submission) -> None:
    response = client.post(
        _act(lead, "status"), {"from_status": "new", "to_status": "lost", "reason": ""}
    )

    assert response.status_code == 400
    assert "Say why" in response.content.decode()
    assert Submission.objects.get(pk=lead.pk).status == "new"


def test_a_move_the_pipeline_refuses_is_a_clear_4xx(client: Client, lead: Submission) -> None:
    response = client.post(_act(lead, "status"), {"from_status": "new", "to_status": "admitted"})
    assert response.status_code == 400
    assert Submission.objects.get(pk=lead.pk).status == "new"


def test_the_status_form_carries_the_status_the_coordinator_saw(
    client: Client, lead: Submission
) -> None:
    html = client.get(_page(lead)).content.decode()

    assert '<input type="hidden" name="from_status" value="new"' in html


def test_a_status_change_from_a_stale_page_is_refused(
    client: Client, lead: Submission, colleague: User
) -> None:
    # The coordinator's page still says "new"; meanwhile a colleague reached the person.
    from apps.admissions.services import lead_status_change

    lead_status_change(submission=lead, to_status="contacted", actor=colleague)

    response = client.post(_act(lead, "status"), {"from_status": "new", "to_status": "verifying"})

    assert response.status_code == 409
    assert Submission.objects.get(pk=lead.pk).status == "contacted"
    assert StatusChange.objects.count() == 1


def test_read_only_roles_cannot_act(auditor: User, lead: Submission) -> None:
    client = staff_client_for(auditor)
    assert client.post(_act(lead, "note"), {"text": "x"}).status_code == 403
    assert not Note.objects.exists()


def test_the_timeline_has_every_submission_followup_and_event(
    client: Client, lead: Submission, coordinator: User
) -> None:
    earlier = lead_make(person=lead.person, kind="contact", received_at=lead.received_at)
    note_add(submission=lead, actor=coordinator, text="n")
    call_log(submission=lead, actor=coordinator, outcome="voicemail", duration_seconds=30)

    response = client.get(_page(lead))

    entries = response.context["timeline"].entries
    kinds = {entry.kind for entry in entries}
    assert {"submission", "followup", "note", "call"} <= kinds
    assert earlier.reference in response.content.decode()
    assert "Staff alert" in response.content.decode()


def test_the_page_costs_the_same_whatever_the_history(
    client: Client, lead: Submission, coordinator: User
) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_page(lead)).status_code == 200
        return len(queries.captured_queries)

    few = count()
    for n in range(6):
        note_add(submission=lead, actor=coordinator, text=f"note {n}")
        call_log(submission=lead, actor=coordinator, outcome="voicemail", duration_seconds=n)
        lead_make(person=lead.person)
    many = count()

    assert few == many
    # 8 for the request itself (see test_queue_admin), then the lead with person, payer and
    # assignee; the person's submissions; notes; calls; status changes; verification results;
    # follow-ups; card images.
    assert many <= 16


def test_managers_see_who_revealed_what_on_the_lead_page(
    client: Client, lead: Submission, manager: User
) -> None:
    client.post(_act(lead, "reveal"), {"field": ["member_id"], "reason": "payer call"})

    html = staff_client_for(manager).get(_page(lead)).content.decode()

    assert 'id="access-log"' in html
    assert "casey" in html
    assert "member_id" in html
    assert "payer call" in html


def test_coordinators_do_not_get_the_access_log(client: Client, lead: Submission) -> None:
    assert 'id="access-log"' not in client.get(_page(lead)).content.decode()


def test_the_page_shows_where_the_lead_came_from(
    client: Client, api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    api_client.post(
        "/api/v1/contact-requests/",
        {
            **contact_body,
            "utm_source": "google",
            "utm_medium": "cpc",
            "utm_campaign": "detox-orange-county",
            "gclid": "Cj0KCQ-test",
            "page_url": "https://asanarecovery.example/verify-insurance/",
            "referrer": "https://www.google.com/",
        },
        format="json",
    )
    lead = Submission.objects.get()

    html = client.get(_page(lead)).content.decode()

    assert "google / cpc" in html
    assert "detox-orange-county" in html
    assert "Google Ads" in html
    assert "https://asanarecovery.example/verify-insurance/" in html


def test_the_page_shows_no_userinfo_of_the_form_page_or_referrer(
    client: Client, api_client: APIClient, contact_body: dict[str, Any]
) -> None:
    # Anyone can post any URL: "user:password@" could be credentials or an email address.
    api_client.post(
        "/api/v1/contact-requests/",
        {
            **contact_body,
            "page_url": "https://jane.doe%40mail.example:hunter2@asanarecovery.example/verify/",
            "referrer": "https://user:pass@www.google.com/search?q=rehab",
        },
        format="json",
    )
    lead = Submission.objects.get()

    html = client.get(_page(lead)).content.decode()

    assert "https://asanarecovery.example/verify/" in html
    assert "https://www.google.com/search?q=rehab" in html
    for secret in ("hunter2", "jane.doe%40mail.example", "user:pass", "pass@"):
        assert secret not in html
