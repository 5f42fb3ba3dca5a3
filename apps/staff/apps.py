from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class StaffConfig(AppConfig):
    default = True
    name = "apps.staff"
    verbose_name = "Staff"

    def ready(self) -> None:
        # Importing connects the audit receivers (logins, permission changes).
        from apps.staff import signals  # noqa: F401

        post_migrate.connect(_roles_resync, dispatch_uid="staff_roles_resync")


def _roles_resync(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    # post_migrate fires once per app; run after the last one, when every app's permissions
    # (created by auth's own post_migrate receiver) exist.
    if sender is not list(apps.get_app_configs())[-1]:
        return
    from django.db import connections

    from apps.privacy.models import AuditEvent
    from apps.privacy.services import audit_record
    from apps.staff.services import roles_sync

    # The migration state's models: the m2m receivers that audit permission changes do not
    # see these, so the sync writes one audit row of its own.
    report = roles_sync(app_registry=kwargs.get("apps"), using=using)
    audited = AuditEvent._meta.db_table in connections[using].introspection.table_names()
    if report.changed and audited:
        audit_record(
            actor=None,
            action=AuditEvent.Action.PERMISSION_CHANGE,
            details={"change": "roles_sync", "roles": report.changed},
        )
