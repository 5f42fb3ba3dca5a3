"""In a real browser: a coordinator filters the queue by payer, opens a lead, reveals a member ID
(and the reveal shows up in the audit log), logs a call and changes the status. Saves the
screenshots the README links (queue, lead page, dashboard)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.admissions.models import CallLog
from apps.admissions.services import note_add
from apps.leads.models import Submission
from apps.payers.models import Payer
from apps.privacy.models import AuditEvent
from tests.admissions.factories import lead_make

pytestmark = pytest.mark.django_db(transaction=True)
MEMBER_ID = "W2638104821"


def _log_in(page: Any, live_server: Any, user: User) -> None:
    """Log in as after password + authenticator code, whether or not the admin demands the
    second factor yet: a confirmed TOTP device, a session verified by it, its cookie copied."""
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session.session_key,
                "url": live_server.url,
            }
        ]
    )


def _staff(username: str, role: str) -> User:
    user = User.objects.create_user(username, password="unused-here", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def _leads() -> Submission:
    """A morning's queue: a few payers, one urgent lead, a couple already worked."""
    now = timezone.now()
    payers = {p.slug: p for p in Payer.objects.all()}
    rows = [
        ("Maya", "aetna", "new", "routine", 3),
        ("Luis", "cigna", "new", "urgent", 1),
        ("Priya", "anthem", "contacted", "routine", 22),
        ("Tom", "aetna", "verifying", "routine", 47),
        ("Grace", None, "new", "routine", 9),
        ("Omar", "bcbs", "new", "routine", 31),
        ("Hana", "cigna", "contacted", "routine", 65),
        ("Ben", "aetna", "new", "routine", 12),
    ]
    target = None
    for name, slug, status, urgency, minutes in rows:
        lead = lead_make(
            first_name=name,
            last_name="Sample",
            payer=payers.get(slug) if slug else None,
            insurance_provider_text="Golden Bear Trust" if slug is None else slug.title(),
            status=status,
            urgency=urgency,
            received_at=now - datetime.timedelta(minutes=minutes),
            sla_due_at=now
            - datetime.timedelta(minutes=minutes)
            + datetime.timedelta(minutes=5 if urgency == "urgent" else 15),
            member_id=MEMBER_ID if name == "Maya" else "QX5550001234",
            treatment_interest="alcohol",
        )
        if name == "Maya":
            target = lead
    assert target is not None
    return target


def test_a_coordinator_works_a_lead(page: Any, live_server: Any, screenshot_dir: Path) -> None:
    coordinator = _staff("casey", "Admissions")
    maya = _leads()
    note_add(submission=maya, actor=coordinator, text="Asked for a call after 5pm")
    _log_in(page, live_server, coordinator)
    base = live_server.url

    page.goto(f"{base}/admin/")
    page.wait_for_url(f"{base}/admin/leads/submission/")
    assert page.locator("#result_list tbody tr").count() == 8
    page.screenshot(path=str(screenshot_dir / "admin-queue.png"), full_page=True)

    # Filter by payer.
    page.locator("#changelist-filter").get_by_role("link", name="Aetna ✓").click()
    page.wait_for_url("**payer=*")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 3
    assert all("Aetna" in text for text in rows.all_inner_texts())

    # Open the lead.
    page.get_by_role("link", name=maya.reference).click()
    page.wait_for_url(f"**/admin/leads/submission/{maya.pk}/change/")
    member_row = page.locator("#phi-member_id")
    assert "•••• 4821" in member_row.inner_text()
    assert MEMBER_ID not in page.content()

    # Reveal the member ID: shown, and audited.
    member_row.get_by_role("button", name="Reveal").click()
    page.wait_for_load_state()
    assert MEMBER_ID in page.locator("#phi-member_id").inner_text()
    event = AuditEvent.objects.get(action="phi_reveal")
    assert (event.actor_id, event.fields, event.target_label) == (
        coordinator.pk,
        ["member_id"],
        maya.reference,
    )

    # Log a call.
    page.goto(f"{base}/admin/leads/submission/{maya.pk}/change/")
    page.select_option("#log-call select[name=outcome]", "voicemail")
    page.fill("#log-call input[name=minutes]", "2")
    page.click("#log-call-submit")
    page.wait_for_load_state()
    assert "Call logged." in page.locator(".messagelist").inner_text()
    assert "Left a voicemail, 2:00" in page.locator("#timeline").inner_text()
    assert CallLog.objects.get().duration_seconds == 120

    # Change the status.
    page.select_option("#change-status select[name=to_status]", "verifying")
    page.click("#change-status-submit")
    page.wait_for_load_state()
    assert page.locator("#lead-status").inner_text().strip() == "Verifying"
    assert Submission.objects.get(pk=maya.pk).status == "verifying"
    page.screenshot(path=str(screenshot_dir / "admin-lead.png"), full_page=True)

    page.goto(f"{base}/admin/leads/submission/dashboard/?window=7d")
    assert page.locator("svg.chart").count() >= 3
    page.screenshot(path=str(screenshot_dir / "admin-dashboard.png"), full_page=True)


def test_the_reveal_appears_in_the_audit_log_for_a_manager(
    page: Any, live_server: Any, browser: Any
) -> None:
    coordinator = _staff("casey", "Admissions")
    maya = _leads()
    _log_in(page, live_server, coordinator)
    page.goto(f"{live_server.url}/admin/leads/submission/{maya.pk}/change/")
    page.locator("#phi-member_id").get_by_role("button", name="Reveal").click()
    page.wait_for_load_state()

    manager = _staff("morgan", "Manager")
    context = browser.new_context()
    other = context.new_page()
    try:
        _log_in(other, live_server, manager)
        other.goto(f"{live_server.url}/admin/privacy/auditevent/")
        listing = other.locator("#result_list").inner_text()
        assert maya.reference in listing
        assert "casey" in listing
        # And on the lead's own page.
        other.goto(f"{live_server.url}/admin/leads/submission/{maya.pk}/change/")
        assert "casey" in other.locator("#access-log").inner_text()
    finally:
        context.close()
