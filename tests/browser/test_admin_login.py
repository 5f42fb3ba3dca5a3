"""In a real browser: a staff login takes the password and the authenticator code; a wrong
code is refused; a new user sets up the app and lands in the admin."""

from __future__ import annotations

from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.browser.admin_login_support import (
    browser_login,
    current_code,
    login_form_fill,
    staff_user,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_logs_in_with_a_code_from_the_authenticator(page: Any, live_server: Any) -> None:
    user = staff_user("casey", "Admissions")

    browser_login(page, live_server.url, user)

    assert page.locator("#site-name").inner_text().strip() == "Asana Recovery admissions"
    assert page.get_by_text("Submissions").first.is_visible()


def test_a_wrong_code_is_refused(page: Any, live_server: Any) -> None:
    user = staff_user("casey", "Admissions")
    right = current_code(TOTPDevice.objects.get(user=user))
    wrong = str((int(right) + 1) % 1_000_000).zfill(6)

    login_form_fill(page, live_server.url, "casey", wrong)

    assert page.locator(".errornote").first.inner_text().startswith("That authenticator code")
    assert page.url.startswith(f"{live_server.url}/admin/login/")
    page.goto(f"{live_server.url}/admin/")
    assert "/admin/login/" in page.url


def test_a_new_user_sets_up_the_app_and_lands_in_the_admin(page: Any, live_server: Any) -> None:
    staff_user("newbie", "Admissions", enrolled=False)

    login_form_fill(page, live_server.url, "newbie", "")
    page.wait_for_url(f"{live_server.url}/admin/enrol/")
    assert page.locator(".enrol-qr svg").is_visible()
    device = TOTPDevice.objects.get(user__username="newbie", confirmed=False)
    page.fill("#id_otp_token", current_code(device))
    page.click("#enrol-form input[type=submit]")

    page.wait_for_url(f"{live_server.url}/admin/")
    device.refresh_from_db()
    assert device.confirmed
