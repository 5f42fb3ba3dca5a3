"""payer_directory_sync and the seeding migration: the project's CSV copy becomes rows, again and
again with the same result."""

from __future__ import annotations

import csv
import importlib
import shutil
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User

from apps.payers.directory import PAYERS_CSV, directory_read
from apps.payers.models import Payer, PayerAlias, PayerDirectoryRevision
from apps.payers.selectors import payer_directory_revision
from apps.payers.services import payer_alias_add, payer_directory_sync

pytestmark = pytest.mark.django_db


def _directory_copy(tmp_path: Path) -> Path:
    shutil.copy(PAYERS_CSV, tmp_path / "payers.csv")
    shutil.copy(PAYERS_CSV.with_name("aliases.csv"), tmp_path / "aliases.csv")
    return tmp_path / "payers.csv"


def _rewrite(path: Path, change: dict[str, dict[str, str]]) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row.update(change.get(row["slug"], {}))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_it_seeds_the_directory_in_the_data_migration() -> None:
    migration = importlib.import_module("apps.payers.migrations.0002_seed_directory")
    Payer.objects.all().delete()
    PayerDirectoryRevision.objects.all().delete()

    migration.seed(django_apps, None)

    assert Payer.objects.count() == 16
    assert PayerAlias.objects.filter(source="directory").count() == len(directory_read().aliases)
    assert payer_directory_revision() is not None


def test_it_seeds_every_payer_of_the_directory() -> None:
    with PAYERS_CSV.open(newline="", encoding="utf-8") as handle:
        expected = {
            (row["slug"], row["name"], row["in_network"] == "true")
            for row in csv.DictReader(handle)
        }

    assert set(Payer.objects.values_list("slug", "name", "in_network")) == expected
    assert len(expected) == 16


def test_it_seeds_the_reviewed_aliases_as_directory_aliases() -> None:
    directory = directory_read()

    seeded = set(PayerAlias.objects.values_list("normalized", "payer__slug", "source"))

    assert seeded == {(a.normalized, a.slug, "directory") for a in directory.aliases}
    assert ("humana military", "tricare", "directory") in seeded


def test_it_changes_nothing_on_a_second_run() -> None:
    before = list(PayerAlias.objects.order_by("pk").values_list("pk", "normalized", "payer_id"))

    assert payer_directory_sync() == 0
    assert payer_directory_sync() == 0

    assert (
        list(PayerAlias.objects.order_by("pk").values_list("pk", "normalized", "payer_id"))
        == before
    )
    assert Payer.objects.count() == 16


def test_it_updates_a_payer_whose_line_changed(tmp_path: Path) -> None:
    path = _directory_copy(tmp_path)
    _rewrite(path, {"humana": {"in_network": "true", "name": "Humana Inc."}})

    assert payer_directory_sync(path=path) == 1

    humana = Payer.objects.get(slug="humana")
    assert (humana.name, humana.in_network) == ("Humana Inc.", True)


def test_it_leaves_active_to_the_staff(tmp_path: Path) -> None:
    Payer.objects.filter(slug="molina").update(active=False)

    payer_directory_sync()

    assert Payer.objects.get(slug="molina").active is False


def test_it_removes_a_directory_alias_no_longer_listed(tmp_path: Path) -> None:
    path = _directory_copy(tmp_path)
    aliases = path.with_name("aliases.csv")
    kept = [line for line in aliases.read_text().splitlines() if ",Golden Rule," not in line]
    aliases.write_text("\n".join(kept) + "\n")

    assert payer_directory_sync(path=path) == 1

    assert not PayerAlias.objects.filter(normalized="golden rule").exists()


def test_it_keeps_staff_aliases(tmp_path: Path, manager: User) -> None:
    cigna = Payer.objects.get(slug="cigna")
    payer_alias_add(payer=cigna, alias="Great-West Healthcare", source="staff", actor=manager)

    payer_directory_sync()

    assert PayerAlias.objects.filter(normalized="great west healthcare", source="staff").exists()


def test_it_refuses_an_alias_listed_for_two_payers(tmp_path: Path) -> None:
    path = _directory_copy(tmp_path)
    with path.with_name("aliases.csv").open("a", encoding="utf-8") as handle:
        handle.write("aetna,Open Access Plus,a mistake\n")

    with pytest.raises(ValueError, match="Open Access Plus"):
        payer_directory_sync(path=path)
