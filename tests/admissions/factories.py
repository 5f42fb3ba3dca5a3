"""Leads and staff for the admissions tests, written straight to the database (the intake API
is tested elsewhere; here we need many leads in known states, fast)."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from django.contrib.auth.models import Group, User
from django.utils import timezone

from apps.leads.models import Person, Submission
from apps.leads.references import reference_new
from apps.staff.roles import ROLE_PERMISSIONS

_serial = itertools.count(1)


def lead_make(**fields: Any) -> Submission:
    """One submission with its own person; ``fields`` override the defaults."""
    n = next(_serial)
    received_at = fields.pop("received_at", None) or timezone.now() - datetime.timedelta(minutes=n)
    person = fields.pop("person", None) or Person.objects.create(
        first_name=fields.get("first_name", f"Alex{n}"),
        last_name=fields.get("last_name", "Morgan"),
        email=fields.get("email", f"lead{n}@example.org"),
        phone=fields.get("phone", f"+1714555{n:04d}"),
    )
    defaults: dict[str, Any] = {
        "reference": reference_new(),
        "kind": Submission.Kind.VERIFICATION,
        "person": person,
        "received_at": received_at,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email or "",
        "phone": person.phone or "",
        "sla_due_at": received_at + datetime.timedelta(minutes=15),
        "insurance_provider_text": "Aetna",
        "member_id": f"ZX{n:08d}",
        "date_of_birth": datetime.date(1990, 1, 2),
    }
    defaults.update(fields)
    return Submission.objects.create(**defaults)


def staff_make(username: str, *roles: str) -> User:
    """A staff user in the given role groups, with exactly the role's permissions."""
    from django.contrib.auth.models import Permission

    user = User.objects.create_user(username=username, password="x", is_staff=True)
    for role in roles:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = ROLE_PERMISSIONS[role]
        permissions = [
            p
            for p in Permission.objects.select_related("content_type")
            if f"{p.content_type.app_label}.{p.codename}" in wanted
        ]
        group.permissions.set(permissions)
        user.groups.add(group)
    return user
