"""In a real browser: a staff login takes the password and the authenticator code; a wrong
code is refused; a new user sets up the app and lands in the admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct horse battery staple"


def _code(device: TOTPDevice) -> str:
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return str(value).zfill(device.digits)


def _staff(username: str, *, enrolled: bool) -> User:
    user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Admissions"))
    if enrolled:
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


def _fill_login(page: Any, base: str, username: str, code: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", code)
    page.click("input[type=submit]")


def test_it_logs_in_with_a_code_from_the_authenticator(page: Any, live_server: Any) -> None:
    user = _staff("casey", enrolled=True)

    _fill_login(page, live_server.url, "casey", _code(TOTPDevice.objects.get(user=user)))

    # Admissions land on the lead queue (the admin's front page sends them there).
    page.wait_for_url(f"{live_server.url}/admin/leads/submission/")
    assert page.locator("#site-name").inner_text().strip() == "Asana Recovery admissions"
    assert page.get_by_text("Submissions").first.is_visible()


def test_a_wrong_code_is_refused(page: Any, live_server: Any) -> None:
    user = _staff("casey", enrolled=True)
    right = _code(TOTPDevice.objects.get(user=user))
    wrong = str((int(right) + 1) % 1_000_000).zfill(6)

    _fill_login(page, live_server.url, "casey", wrong)

    assert page.locator(".errornote").first.inner_text().startswith("That authenticator code")
    assert page.url.startswith(f"{live_server.url}/admin/login/")
    page.goto(f"{live_server.url}/admin/")
    assert "/admin/login/" in page.url


def test_a_new_user_sets_up_the_app_and_lands_in_the_admin(page: Any, live_server: Any) -> None:
    _staff("newbie", enrolled=False)

    _fill_login(page, live_server.url, "newbie", "")
    page.wait_for_url(f"{live_server.url}/admin/enrol/")
    assert page.locator(".enrol-qr svg").is_visible()
    device = TOTPDevice.objects.get(user__username="newbie", confirmed=False)
    page.fill("#id_otp_token", _code(device))
    page.click("#enrol-form input[type=submit]")

    page.wait_for_url(f"{live_server.url}/admin/leads/submission/")
    device.refresh_from_db()
    assert device.confirmed
