"""Marketing in a real browser: logged in with two factors, they reach the marketing pages and
no health information by any admin page, search or link (issue 5, "as Marketing fail to reach
PHI"). The role tests in tests/staff check every admin page with the test client; this one
checks what the browser actually shows."""

from __future__ import annotations

from typing import Any

import pytest

from apps.leads.models import Submission
from apps.privacy.models import AuditEvent
from tests.admissions.factories import lead_make
from tests.browser.admin_login_support import browser_login, staff_user

pytestmark = pytest.mark.django_db(transaction=True)

MEMBER_ID = "MKTG7731902"
MESSAGE = "Marker message about my relapse"


def _lead_with_phi() -> Submission:
    return lead_make(
        first_name="Rosa",
        last_name="Sample",
        member_id=MEMBER_ID,
        message=MESSAGE,
        insurance_provider_text="Aetna",
    )


def test_marketing_reaches_no_health_information(page: Any, live_server: Any) -> None:
    lead = _lead_with_phi()
    marketer = staff_user("marketer", "Marketing")
    base = live_server.url

    browser_login(page, base, marketer)
    index = page.content()
    assert "Marketing" in index or "Export" in index  # their own pages are there
    assert "Submissions" not in page.inner_text("#content-main")

    for path in (
        "/admin/leads/submission/",
        f"/admin/leads/submission/{lead.pk}/change/",
        f"/admin/leads/submission/?q={lead.reference}",
        "/admin/leads/cardimage/",
        "/admin/privacy/auditevent/",
        "/admin/followups/inboundtext/",
        "/admin/admissions/verificationresult/",
    ):
        answer = page.goto(base + path)
        assert answer is not None
        shown = page.content()
        assert answer.status in (403, 404), (path, answer.status)
        assert MEMBER_ID not in shown, path
        assert "relapse" not in shown, path
        assert lead.reference not in shown, path

    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PHI_REVEAL).exists()
