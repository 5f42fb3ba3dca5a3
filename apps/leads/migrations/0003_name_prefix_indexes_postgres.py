"""Case-insensitive prefix search on names for the triage admin, on PostgreSQL only.

``last_name__istartswith`` compiles to ``UPPER("last_name"::text) LIKE UPPER('smi%')``; only an
expression index with ``text_pattern_ops`` serves that under a non-C collation. Django can state
an operator class on an expression only with ``django.contrib.postgres`` (invalid SQL elsewhere),
so the index is created here, per vendor, and SQLite simply scans.
"""

from django.db import migrations

COLUMNS = ("first_name", "last_name")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS submission_{column}_prefix "
            f"ON leads_submission (UPPER({column}) text_pattern_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS submission_{column}_prefix")


class Migration(migrations.Migration):
    dependencies = [("leads", "0002_triage_queue_indexes_and_permissions")]

    operations = [migrations.RunPython(create, drop)]
