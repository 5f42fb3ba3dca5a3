"""Helpers for the form kit's browser tests (tests/browser/test_forms_*.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
DEMO = "/forms/demo/"
CONTACT = "#af-contact"
VERIFY = "#af-verify"
BOOK = "#af-book"


@pytest.fixture
def kit_settings(settings: Any) -> Any:
    """The demo page on; no minimum fill time (a test fills a form in well under 3 s)."""
    settings.FORMS_DEMO_ENABLED = True
    settings.FORMS_MIN_FILL_SECONDS = 0
    settings.FORMS_THANK_YOU_URL = ""
    return settings


def fill_contact(
    page: Any, *, message: str = "Please call me about options for my brother."
) -> None:
    form = page.locator(CONTACT)
    form.locator('[name="first_name"]').fill("Dana")
    form.locator('[name="last_name"]').fill("Rivera")
    form.locator('[name="email"]').fill("dana.rivera@example.org")
    form.locator('[name="phone"]').fill("(949) 555-0142")
    form.locator('[name="message"]').fill(message)
    form.locator('[name="consent_calls"]').check()


def fill_verification(page: Any, *, payer: str | None = None) -> None:
    """Everything required; ``payer`` is a dropdown label (with JavaScript) or typed text."""
    form = page.locator(VERIFY)
    form.locator('[name="first_name"]').fill("Sam")
    form.locator('[name="last_name"]').fill("Okafor")
    form.locator('[name="email"]').fill("sam.okafor@example.org")
    form.locator('[name="date_of_birth"]').fill("1988-06-02")
    form.locator('[name="state"]').select_option("CA")
    form.locator('[name="member_id"]').fill("U1234 5678-01")
    if payer is not None:
        provider = form.locator("#af-verify-insurance_provider")
        if provider.evaluate("node => node.tagName") == "SELECT":
            provider.select_option(label=payer)
        else:
            provider.fill(payer)


def fill_book(page: Any) -> None:
    form = page.locator(BOOK)
    form.locator('[name="first_name"]').fill("Lee")
    form.locator('[name="email"]').fill("lee@example.org")


def require_axe() -> str:
    """axe-core's source, installed by `make browser-deps` (npm ci --prefix tests/browser)."""
    if not AXE.exists():
        if shutil.which("npm") is None:
            # As `make browser-deps` says: without npm the accessibility checks are skipped.
            pytest.skip("npm not installed, so axe-core is not: accessibility check SKIPPED")
        message = (
            f"axe-core not installed at {AXE}: run `make browser-deps` "
            "(npm ci --prefix tests/browser); accessibility check skipped"
        )
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


def serious_violations(page: Any, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it stands."""
    page.add_script_tag(content=axe_source)
    results: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in results["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]
