"""The four staff roles as groups with their permissions (apps/staff/roles.py).

Permissions of the models migrated so far are created here first (Django otherwise creates
them only after the whole migrate run); post_migrate re-applies the map after every migrate.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def apply_roles(apps: Any, schema_editor: Any) -> None:
    from django.contrib.auth.management import create_permissions

    from apps.staff.services import roles_sync

    using = schema_editor.connection.alias
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps, using=using)
        app_config.models_module = None
    roles_sync(app_registry=apps, using=using)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("leads", "0001_initial"),
        ("followups", "0002_seed_sequences"),
        ("payers", "0002_seed_directory"),
        ("books", "0001_initial"),
        ("privacy", "0002_audit_event_append_only"),
    ]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]
