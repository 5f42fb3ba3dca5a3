"""Seed the payer directory from apps/payers/data (payers.csv and the reviewed aliases.csv).

Idempotent: payers by slug, aliases by normalized form, the same code path as
``manage.py seed_payers`` (``apps.payers.directory.directory_apply``) with the historical models.
"""

import uuid

from django.db import migrations


def seed(apps, schema_editor):
    from apps.payers.directory import directory_apply, directory_read

    Payer = apps.get_model("payers", "Payer")
    PayerAlias = apps.get_model("payers", "PayerAlias")
    PayerDirectoryRevision = apps.get_model("payers", "PayerDirectoryRevision")
    directory_apply(payer_model=Payer, alias_model=PayerAlias, directory=directory_read())
    PayerDirectoryRevision.objects.update_or_create(pk=1, defaults={"token": uuid.uuid4()})


class Migration(migrations.Migration):

    dependencies = [
        ("payers", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
