"""axe-core on the demo page in its states (fresh, errors shown, success with crisis
resources, the no-JavaScript pages), plus the screenshots docs/website.md shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.forms_support import (
    CONTACT,
    DEMO,
    VERIFY,
    fill_contact,
    kit_settings,
    require_axe,
    serious_violations,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("kit_settings")]
__all__ = ["kit_settings"]


@pytest.fixture
def axe_source() -> str:
    return require_axe()


def _open(page: Any, live_server: Any) -> None:
    page.goto(f"{live_server.url}{DEMO}")
    page.wait_for_selector(f"{VERIFY}[data-enhanced]")
    page.wait_for_selector("#af-verify-insurance_provider optgroup", state="attached")


def test_the_demo_page_has_no_serious_violations(
    page: Any, live_server: Any, axe_source: str, screenshot_dir: Path
) -> None:
    _open(page, live_server)

    assert serious_violations(page, axe_source) == []
    page.screenshot(path=str(screenshot_dir / "forms-demo.png"), full_page=True)


def test_errors_shown_have_no_serious_violations(
    page: Any, live_server: Any, axe_source: str
) -> None:
    _open(page, live_server)
    page.locator(VERIFY).get_by_role("button", name="Verify my insurance").click()
    page.locator("#af-verify-first_name-error").wait_for()

    assert serious_violations(page, axe_source) == []


def test_the_success_state_with_crisis_resources_has_no_serious_violations(
    page: Any, live_server: Any, axe_source: str, screenshot_dir: Path
) -> None:
    page.set_viewport_size({"width": 420, "height": 900})
    _open(page, live_server)
    fill_contact(page, message="I relapsed and I keep thinking about ending my life.")
    page.locator(CONTACT).get_by_role("button", name="Send message").click()
    success = page.locator(".af-success")
    success.wait_for()

    assert serious_violations(page, axe_source) == []
    success.scroll_into_view_if_needed()
    success.screenshot(path=str(screenshot_dir / "forms-success.png"))


def test_the_pages_without_javascript_have_no_serious_violations(
    browser: Any, live_server: Any, axe_source: str
) -> None:
    # axe runs as a script; the pages are rendered without the kit's script (no enhancement).
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.route("**/asana-forms.v1.js", lambda route: route.abort())
    try:
        page.goto(f"{live_server.url}{DEMO}")
        assert serious_violations(page, axe_source) == []
        page.goto(f"{live_server.url}/forms/thank-you/?reference=K7MQ-4T9R&form=contact&crisis=1")
        assert serious_violations(page, axe_source) == []
        page.goto(f"{live_server.url}{DEMO}")
        fill_contact(page)
        page.locator(f"{CONTACT} [name=phone]").fill("12")
        page.locator(CONTACT).get_by_role("button", name="Send message").click()
        page.locator(".problems").wait_for()
        assert serious_violations(page, axe_source) == []
    finally:
        context.close()
