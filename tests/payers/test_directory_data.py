"""The reviewed alias list (apps/payers/data/aliases.csv) agrees with the directory's prose."""

from __future__ import annotations

import pytest

from apps.payers.directory import directory_read
from apps.payers.selectors import payer_match

pytestmark = pytest.mark.django_db


def test_it_resolves_every_reviewed_alias_to_its_own_payer() -> None:
    wrong = [
        (alias.alias, alias.slug, payer_match(text=alias.alias).slug)
        for alias in directory_read().aliases
        if payer_match(text=alias.alias).slug != alias.slug
    ]

    assert wrong == []


def test_it_resolves_every_directory_name_to_its_own_payer() -> None:
    payers = directory_read().payers

    assert [payer_match(text=p.name).slug for p in payers] == [p.slug for p in payers]


def test_it_gives_humana_no_alias_for_humana_military() -> None:
    humana = [a.alias for a in directory_read().aliases if a.slug == "humana"]

    assert not any("military" in alias.casefold() for alias in humana)


def test_it_gives_medicare_no_alias_for_medicare_advantage() -> None:
    medicare = [a.alias for a in directory_read().aliases if a.slug == "medicare"]

    assert not any("advantage" in alias.casefold() for alias in medicare)
