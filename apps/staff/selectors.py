"""Reads about staff accounts."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser


def staff_has_confirmed_device(*, user: AbstractBaseUser) -> bool:
    """Whether ``user`` has enrolled a two-factor device (and confirmed it with a code)."""
    from django_otp import devices_for_user

    return any(True for _ in devices_for_user(user, confirmed=True))
