"""Reads about staff accounts."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.db.models import Q, QuerySet


def staff_has_confirmed_device(*, user: AbstractBaseUser) -> bool:
    """Whether ``user`` has enrolled a two-factor device (and confirmed it with a code)."""
    from django_otp import devices_for_user

    return any(True for _ in devices_for_user(user, confirmed=True))


# Working a lead (taking it, logging a call or note, moving its status) is a change of the
# submission: the permission the Admissions and Manager roles hold and Marketing and
# Compliance do not (apps/staff/roles.py).
LEAD_WORK_PERMISSION = ("leads", "change_submission")


def staff_who_work_leads() -> QuerySet[AbstractUser]:
    """Active staff accounts that may work leads: the only ones a lead may be assigned to."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    app_label, codename = LEAD_WORK_PERMISSION
    permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    users: QuerySet[AbstractUser] = get_user_model().objects.filter(  # type: ignore[assignment]
        is_active=True, is_staff=True
    )
    return users.filter(
        Q(is_superuser=True)
        | Q(user_permissions__in=permission)
        | Q(groups__permissions__in=permission)
    ).distinct()


def staff_works_leads(*, user: AbstractUser | AnonymousUser) -> bool:
    """Whether ``user`` may work leads (``staff_who_work_leads``, for one account)."""
    app_label, codename = LEAD_WORK_PERMISSION
    return bool(
        user.is_active
        and getattr(user, "is_staff", False)
        and user.has_perm(f"{app_label}.{codename}")
    )
