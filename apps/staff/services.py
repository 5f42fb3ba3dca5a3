"""Staff accounts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

LOCAL_STAFF_USERNAME = "admin"


@dataclass(frozen=True)
class LocalStaff:
    username: str
    password: str | None  # only when just created: it is shown once and never stored in clear


@transaction.atomic
def local_staff_ensure() -> LocalStaff:
    """The local superuser for the embedded default, created with a random password when no
    staff account exists yet. Never a fixed password."""
    user_model = get_user_model()
    existing = user_model.objects.filter(is_staff=True).order_by("pk").first()
    if existing is not None:
        return LocalStaff(username=existing.get_username(), password=None)
    password = secrets.token_urlsafe(12)
    user_model.objects.create_superuser(
        username=LOCAL_STAFF_USERNAME, email="admin@localhost", password=password
    )
    return LocalStaff(username=LOCAL_STAFF_USERNAME, password=password)
