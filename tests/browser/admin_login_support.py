"""Logging staff into the admin in a real browser, as they do: password and the current code
of their authenticator app (computed here from the device's key). For any browser test."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct horse battery staple"


def current_code(device: TOTPDevice) -> str:
    """The 6 digits the user's authenticator app shows right now."""
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return str(value).zfill(device.digits)


def staff_user(username: str, *roles: str, enrolled: bool = True) -> User:
    """A staff user in ``roles`` (group names) with password ``PASSWORD`` and, when
    ``enrolled``, a confirmed authenticator device."""
    user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    if enrolled:
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


def login_form_fill(page: Any, base_url: str, username: str, code: str) -> None:
    """Open the admin login and submit username, password and ``code``."""
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", code)
    page.click("#login-form input[type=submit]")


def browser_login(page: Any, base_url: str, user: User) -> None:
    """Log ``user`` (enrolled) into the admin and wait for the index."""
    login_form_fill(page, base_url, user.get_username(), current_code(user.totpdevice_set.get()))
    page.wait_for_url(f"{base_url}/admin/")
