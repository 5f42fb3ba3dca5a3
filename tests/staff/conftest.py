"""Staff personas, one per role, and a real admin login (password + authenticator code)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct horse battery staple"


def current_code(device: TOTPDevice) -> str:
    """The code the user's authenticator app shows right now."""
    code = totp(
        device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift
    )
    return str(code).zfill(device.digits)


@pytest.fixture
def make_staff(db: Any) -> Callable[..., User]:
    def make(username: str, *roles: str, enrolled: bool = True, **fields: Any) -> User:
        user = User.objects.create_user(username, password=PASSWORD, is_staff=True, **fields)
        for role in roles:
            user.groups.add(Group.objects.get(name=role))
        if enrolled:
            TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        return user

    return make


def device_of(user: User) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user, confirmed=True)


def login_post(
    client: Client, username: str, password: str = PASSWORD, code: str = "", **extra: Any
) -> Any:
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "otp_token": code, "next": "/admin/"},
        **extra,
    )
