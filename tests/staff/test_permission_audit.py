"""Permission changes are audited, whoever makes them and however: group membership, user and
group permissions, the staff and superuser flags."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from apps.privacy.models import AuditEvent
from tests.conftest import staff_client_for

pytestmark = pytest.mark.django_db


def _changes() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="permission_change").order_by("id"))


def test_adding_and_removing_a_role_is_audited(make_staff: Callable[..., User]) -> None:
    user = make_staff("casey")
    admissions = Group.objects.get(name="Admissions")
    before = len(_changes())

    user.groups.add(admissions)
    admissions.user_set.remove(user)

    added, removed = _changes()[before:]
    assert added.target_label == "casey"
    assert added.details == {"change": "user_groups", "added": ["Admissions"]}
    assert removed.target_label == "Admissions"
    assert removed.details == {"change": "user_groups", "removed": ["casey"]}


def test_clearing_a_users_permissions_names_what_was_taken(make_staff: Callable[..., User]) -> None:
    user = make_staff("casey")
    user.user_permissions.add(Permission.objects.get(codename="view_payer"))
    before = len(_changes())

    user.user_permissions.clear()

    (cleared,) = _changes()[before:]
    assert cleared.details == {"change": "user_permissions", "removed": ["payers.view_payer"]}


def test_a_superuser_flag_is_audited_with_old_and_new_value(
    make_staff: Callable[..., User],
) -> None:
    user = make_staff("casey")
    before = len(_changes())

    user.is_superuser = True
    user.save()
    user.first_name = "Casey"
    user.save()  # no flag changed: nothing to audit

    (change,) = _changes()[before:]
    assert change.details == {
        "change": "flags",
        "flags": {"is_superuser": [False, True]},
        "created": False,
    }


def test_a_group_permission_changed_in_the_admin_names_who_and_from_where(
    admin_user: User, admin_client: Client
) -> None:
    marketing = Group.objects.get(name="Marketing")
    keep = list(marketing.permissions.values_list("pk", flat=True))
    extra = Permission.objects.get(codename="view_payeralias")
    before = len(_changes())

    response = admin_client.post(
        f"/admin/auth/group/{marketing.pk}/change/",
        {"name": "Marketing", "permissions": [*keep, extra.pk]},
        REMOTE_ADDR="192.0.2.44",
    )

    assert response.status_code == 302
    (change,) = _changes()[before:]
    assert change.actor == admin_user
    assert change.ip_address == "192.0.2.44"
    assert change.target_label == "Marketing"
    assert change.details == {"change": "group_permissions", "added": ["payers.view_payeralias"]}


def test_a_login_is_audited_once(make_staff: Callable[..., User]) -> None:
    user = make_staff("casey", "Admissions")

    staff_client_for(user)

    assert AuditEvent.objects.filter(action="login", actor=user).count() == 1
