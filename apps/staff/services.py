"""Staff accounts: the local login of the embedded default, the roles, two-factor devices."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import DEFAULT_DB_ALIAS, transaction
from django.http import HttpRequest

from apps.staff.roles import CUSTOM_PERMISSIONS, ROLE_PERMISSIONS

logger = logging.getLogger(__name__)

LOCAL_STAFF_USERNAME = "admin"


@dataclass(frozen=True)
class LocalStaff:
    username: str
    password: str | None  # only when just created: it is shown once and never stored in clear
    needs_enrolment: bool = True  # no confirmed two-factor device yet


@transaction.atomic
def local_staff_ensure() -> LocalStaff:
    """The local superuser for the embedded default, created with a random password when no
    staff account exists yet. Never a fixed password. Its first admin login asks it to enrol
    an authenticator app (two factors for every staff login)."""
    from apps.staff.selectors import staff_has_confirmed_device

    user_model = get_user_model()
    existing = user_model.objects.filter(is_staff=True).order_by("pk").first()
    if existing is not None:
        return LocalStaff(
            username=existing.get_username(),
            password=None,
            needs_enrolment=not staff_has_confirmed_device(user=existing),
        )
    password = secrets.token_urlsafe(12)
    user_model.objects.create_superuser(
        username=LOCAL_STAFF_USERNAME, email="admin@localhost", password=password
    )
    return LocalStaff(username=LOCAL_STAFF_USERNAME, password=password)


# --- Roles ------------------------------------------------------------------------------------


@dataclass
class RolesSyncReport:
    """Per role, the permissions granted; and the permissions skipped because their app or
    model is not installed (yet)."""

    granted: dict[str, list[str]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    # Per role that changed: {"added": [...], "removed": [...]}.
    changed: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def roles_sync(
    *, app_registry: Apps | None = None, using: str = DEFAULT_DB_ALIAS
) -> RolesSyncReport:
    """Make the groups Admissions, Manager, Marketing and Compliance hold exactly the
    permissions of ``ROLE_PERMISSIONS``: create missing groups, create custom permission rows
    that do not exist yet (for models that do), remove anything else from the groups.

    ``app_registry`` is the migration state's registry when run from a migration (the models as
    of that migration); the live one otherwise. Idempotent: run on every ``migrate``.
    """
    registry = app_registry or global_apps
    group_model = registry.get_model("auth", "Group")
    report = RolesSyncReport()
    with transaction.atomic(using=using):
        for role, dotted_names in ROLE_PERMISSIONS.items():
            group, _ = group_model.objects.using(using).get_or_create(name=role)
            wanted = []
            for dotted in sorted(dotted_names):
                permission = _permission_find_or_create(registry, using, dotted)
                if permission is None:
                    if dotted not in report.skipped:
                        report.skipped.append(dotted)
                    continue
                wanted.append(permission)
            current = {
                f"{app}.{codename}"
                for app, codename in group.permissions.values_list(
                    "content_type__app_label", "codename"
                )
            }
            granted = {f"{p.content_type.app_label}.{p.codename}" for p in wanted}
            if current != granted:
                group.permissions.set(wanted)
                report.changed[role] = {
                    "added": sorted(granted - current),
                    "removed": sorted(current - granted),
                }
            report.granted[role] = sorted(granted)
    for dotted in report.skipped:
        logger.info("roles: %s not granted yet (its app or model is not installed)", dotted)
    return report


def _permission_find_or_create(registry: Apps, using: str, dotted: str) -> Any:
    permission_model = registry.get_model("auth", "Permission")
    app_label, codename = dotted.split(".", 1)
    found = (
        permission_model.objects.using(using)
        .select_related("content_type")
        .filter(content_type__app_label=app_label, codename=codename)
        .first()
    )
    if found is not None or dotted not in CUSTOM_PERMISSIONS:
        return found
    model_label, name = CUSTOM_PERMISSIONS[dotted]
    model_app, model_name = model_label.split(".", 1)
    try:
        registry.get_model(model_app, model_name)
    except LookupError:
        return None
    content_type_model = registry.get_model("contenttypes", "ContentType")
    content_type, _ = content_type_model.objects.using(using).get_or_create(
        app_label=model_app, model=model_name
    )
    permission, _ = permission_model.objects.using(using).get_or_create(
        content_type=content_type, codename=codename, defaults={"name": name}
    )
    return permission


# --- Two-factor devices -----------------------------------------------------------------------


def otp_devices_reset(
    *, user: AbstractBaseUser, actor: AbstractBaseUser | None, request: HttpRequest | None = None
) -> int:
    """Remove every two-factor device of ``user`` (a lost phone), so that the next login asks
    them to enrol a new one. Audited as ``device_reset``. Returns how many were removed."""
    from django_otp import devices_for_user

    from apps.privacy.models import AuditEvent
    from apps.privacy.services import audit_record

    with transaction.atomic():
        removed = 0
        for device in list(devices_for_user(user, confirmed=None)):
            device.delete()
            removed += 1
        audit_record(
            actor=actor,
            action=AuditEvent.Action.DEVICE_RESET,
            target=user,
            request=request,
            details={"devices_removed": removed},
        )
    return removed
