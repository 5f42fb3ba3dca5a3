"""The site is another origin: the snippet pasted into its page, the API on ours."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from apps.leads.models import Submission
from apps.website.kit import script_tags, snippet
from tests.browser.forms_support import CONTACT, fill_contact, kit_settings

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("kit_settings")]
__all__ = ["kit_settings"]


def _site_origin(live_server: Any) -> str:
    # The live server is http://localhost:<port>; http://127.0.0.1:<port> is another origin on
    # the same (loopback) address space, which chromium's Local Network Access rules allow.
    return str(live_server.url).replace("localhost", "127.0.0.1")


def _site_page(live_server: Any) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Contact</title>'
        f"{script_tags(api_origin=live_server.url)}</head><body><main>"
        f"{snippet('contact', api_origin=live_server.url)}</main></body></html>"
    )


@pytest.fixture
def site(browser: Any, live_server: Any, settings: Any, request: Any) -> Iterator[Any]:
    """A tab on the site's origin holding the pasted snippet, JavaScript on or off."""
    origin = _site_origin(live_server)
    settings.CORS_ALLOWED_ORIGINS = [origin]
    context = browser.new_context(java_script_enabled=request.param, locale="en-US")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    # Any page of that origin will do: its content is replaced by the site's page.
    tab.goto(f"{origin}/forms/thank-you/?utm_source=partner")
    tab.set_content(_site_page(live_server))
    yield tab
    context.close()


@pytest.mark.parametrize("site", [True], indirect=True)
def test_the_script_posts_from_the_sites_origin(site: Any, live_server: Any) -> None:
    keys: list[str] = []
    site.on(
        "request",
        lambda request: (
            keys.append(request.headers.get("idempotency-key", ""))
            if request.method == "POST"
            else None
        ),
    )
    site.wait_for_selector(f"{CONTACT}[data-enhanced]")
    site.wait_for_function("document.querySelector('#af-contact [name=form_token]').value !== ''")
    fill_contact(site)

    site.locator(CONTACT).get_by_role("button", name="Send message").click()

    site.locator(".af-success .af-reference").wait_for()
    submission = Submission.objects.get()
    origin = _site_origin(live_server)
    assert submission.page_url == f"{origin}/forms/thank-you/?utm_source=partner"
    assert submission.utm_source == "partner"
    assert len(keys[0]) == 36


@pytest.mark.parametrize("site", [False], indirect=True)
def test_a_plain_form_posts_from_the_sites_origin(site: Any, live_server: Any) -> None:
    fill_contact(site)

    site.locator(CONTACT).get_by_role("button", name="Send message").click()

    site.wait_for_url(f"{live_server.url}/forms/thank-you/**")
    assert Submission.objects.get().reference in site.locator(".reference").inner_text()
