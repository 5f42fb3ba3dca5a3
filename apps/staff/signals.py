"""Audit rows for logins, failed logins and permission changes, however they are made (the
admin, the shell, a command). Never a password: only the username that was tried."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import models
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest

from apps.privacy.middleware import current_request
from apps.privacy.models import AuditEvent
from apps.privacy.services import audit_record

User = get_user_model()
WATCHED_FLAGS = ("is_staff", "is_superuser", "is_active")


def _acting_user() -> tuple[AbstractBaseUser | None, HttpRequest | None]:
    request = current_request()
    user = getattr(request, "user", None) if request is not None else None
    if user is None or not user.is_authenticated:
        return None, request
    return user, request


@receiver(user_logged_in, dispatch_uid="audit_login")
def _audit_login(
    sender: Any, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: Any
) -> None:
    device = getattr(user, "otp_device", None)
    audit_record(
        actor=user,
        action=AuditEvent.Action.LOGIN,
        target=user,
        request=request,
        details={"second_factor": type(device).__name__ if device is not None else "none"},
    )


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Only the username: Django has already masked the password, and nothing else typed into
    # a login form belongs in a log.
    details: dict[str, Any] = {"username": str(credentials.get("username", ""))[:150]}
    if credentials.get("otp_stage"):
        details["stage"] = "second_factor"
    audit_record(
        actor=None, action=AuditEvent.Action.LOGIN_FAILED, request=request, details=details
    )


@receiver(pre_save, sender=User, dispatch_uid="audit_user_flags_before")
def _remember_flags(sender: type[models.Model], instance: Any, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    skip = update_fields is not None and not set(update_fields) & set(WATCHED_FLAGS)
    if instance.pk is None or kwargs.get("raw") or skip:
        # A new user, a fixture, or a save that cannot touch a flag (last_login at login).
        instance._audit_old_flags = None
        return
    old = sender._default_manager.filter(pk=instance.pk).values(*WATCHED_FLAGS).first()
    instance._audit_old_flags = old


@receiver(post_save, sender=User, dispatch_uid="audit_user_flags_after")
def _audit_flags(sender: type[models.Model], instance: Any, created: bool, **kwargs: Any) -> None:
    old = getattr(instance, "_audit_old_flags", None)
    if created:
        changed = {
            flag: [None, getattr(instance, flag)]
            for flag in WATCHED_FLAGS
            if getattr(instance, flag)
        }
        changed.pop("is_active", None)
    elif old is None:
        return
    else:
        changed = {
            flag: [old[flag], getattr(instance, flag)]
            for flag in WATCHED_FLAGS
            if old[flag] != getattr(instance, flag)
        }
    if not changed:
        return
    actor, request = _acting_user()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.PERMISSION_CHANGE,
        target=instance,
        request=request,
        details={"change": "flags", "flags": changed, "created": created},
    )


def _labels(model: type[models.Model], pks: set[Any] | None) -> list[str]:
    if not pks:
        return []
    if model is Permission:
        rows = Permission.objects.filter(pk__in=pks).values_list(
            "content_type__app_label", "codename"
        )
        return sorted(f"{app}.{codename}" for app, codename in rows)
    if model is Group:
        return sorted(Group.objects.filter(pk__in=pks).values_list("name", flat=True))
    return sorted(str(u.get_username()) for u in User._default_manager.filter(pk__in=pks))


def _audit_m2m(
    change: str,
    instance: models.Model,
    model: type[models.Model],
    action: str,
    pk_set: set[Any] | None,
) -> None:
    if action == "pre_clear":
        related = getattr(instance, _RELATED_ACCESSOR[(type(instance), model)])
        pk_set = set(related.values_list("pk", flat=True))
        verb = "removed"
    elif action in ("post_add", "post_remove"):
        verb = "added" if action == "post_add" else "removed"
    else:
        return
    if not pk_set:
        return
    actor, request = _acting_user()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.PERMISSION_CHANGE,
        target=instance,
        request=request,
        details={"change": change, verb: _labels(model, pk_set)},
    )


_RELATED_ACCESSOR: dict[tuple[type[models.Model], type[models.Model]], str] = {
    (User, Group): "groups",
    (Group, User): "user_set",
    (User, Permission): "user_permissions",
    (Permission, User): "user_set",
    (Group, Permission): "permissions",
    (Permission, Group): "group_set",
}


def _m2m_auditor(relation: str) -> Any:
    """A receiver that audits changes of one permission relation, named ``relation``."""

    def receiver_(
        sender: Any,
        instance: models.Model,
        action: str,
        model: type[models.Model],
        pk_set: set[Any] | None,
        **kwargs: Any,
    ) -> None:
        _audit_m2m(relation, instance, model, action, pk_set)

    return receiver_


# The three relations that grant permissions: a user's groups, a user's own permissions and a
# group's permissions. Kept as module attributes: signals hold receivers weakly.
_audit_user_groups = _m2m_auditor("user_groups")
_audit_user_permissions = _m2m_auditor("user_permissions")
_audit_group_permissions = _m2m_auditor("group_permissions")
m2m_changed.connect(
    _audit_user_groups, sender=User.groups.through, dispatch_uid="audit_user_groups"
)
m2m_changed.connect(
    _audit_user_permissions,
    sender=User.user_permissions.through,
    dispatch_uid="audit_user_permissions",
)
m2m_changed.connect(
    _audit_group_permissions,
    sender=Group.permissions.through,
    dispatch_uid="audit_group_permissions",
)
