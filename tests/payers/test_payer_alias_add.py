"""payer_alias_add / payer_alias_remove: staff mappings are used by the matcher at once."""

from __future__ import annotations

import contextlib

import pytest
from django.contrib.auth.models import User
from django.db import transaction

from apps.payers.exceptions import PayerAliasConflictError, PayerAliasInvalidError
from apps.payers.models import Payer, PayerAlias
from apps.payers.selectors import payer_directory_revision, payer_match
from apps.payers.services import payer_alias_add, payer_alias_remove

pytestmark = pytest.mark.django_db


def test_it_makes_a_staff_alias_resolve_on_the_next_match(cigna: Payer, manager: User) -> None:
    assert payer_match(text="Great-West Healthcare").slug is None  # the index is now cached

    payer_alias_add(payer=cigna, alias="Great-West Healthcare", source="staff", actor=manager)

    match = payer_match(text="great west healthcare")
    assert (match.slug, match.score, match.method) == ("cigna", 100.0, "alias")


def test_it_moves_the_directory_revision(cigna: Payer, manager: User) -> None:
    before = payer_directory_revision()

    payer_alias_add(payer=cigna, alias="Great-West Healthcare", source="staff", actor=manager)

    assert payer_directory_revision() not in {None, before}


def test_it_stores_the_source_actor_and_normalized_form(cigna: Payer, manager: User) -> None:
    payer_alias_add(payer=cigna, alias="  Great-West   Healthcare ", source="staff", actor=manager)

    row = PayerAlias.objects.get(normalized="great west healthcare")
    assert (row.payer, row.alias, row.source, row.created_by) == (
        cigna,
        "Great-West Healthcare",
        PayerAlias.Source.STAFF,
        manager,
    )


def test_it_returns_the_existing_alias_when_it_already_maps_to_the_payer(
    cigna: Payer, manager: User
) -> None:
    first = payer_alias_add(payer=cigna, alias="Great-West", source="staff", actor=manager)

    again = payer_alias_add(payer=cigna, alias="GREAT WEST", source="staff", actor=None)

    assert again.pk == first.pk
    assert PayerAlias.objects.filter(normalized="great west").count() == 1


def test_it_refuses_a_name_that_already_maps_to_another_payer(
    ambetter: Payer, manager: User
) -> None:
    with pytest.raises(PayerAliasConflictError):
        payer_alias_add(payer=ambetter, alias="Signa", source="staff", actor=manager)
    with pytest.raises(PayerAliasConflictError):
        payer_alias_add(payer=ambetter, alias="Open Access Plus", source="staff", actor=manager)

    assert payer_match(text="Open Access Plus").slug == "cigna"


@pytest.mark.parametrize("alias", ["", "   ", "!!!", "x" * 256])
def test_it_refuses_an_alias_without_letters_or_too_long(cigna: Payer, alias: str) -> None:
    with pytest.raises(PayerAliasInvalidError):
        payer_alias_add(payer=cigna, alias=alias, source="staff", actor=None)


def test_it_refuses_an_unknown_source(cigna: Payer) -> None:
    with pytest.raises(PayerAliasInvalidError):
        payer_alias_add(payer=cigna, alias="Great-West", source="guess", actor=None)


def test_it_lets_staff_map_a_name_the_directory_leaves_unresolved(
    ambetter: Payer, manager: User
) -> None:
    assert payer_match(text="Health Net").slug is None

    payer_alias_add(payer=ambetter, alias="Health Net", source="staff", actor=manager)

    assert payer_match(text="Health Net").slug == "ambetter"
    assert payer_match(text="Health Net Federal Services").slug == "tricare"


def test_it_stops_resolving_a_removed_alias(cigna: Payer, manager: User) -> None:
    alias = payer_alias_add(payer=cigna, alias="Great-West", source="staff", actor=manager)
    assert payer_match(text="Great-West").slug == "cigna"

    payer_alias_remove(alias=alias, actor=manager)

    assert payer_match(text="Great-West").slug is None
    assert not PayerAlias.objects.filter(pk=alias.pk).exists()


def _add_and_roll_back(payer: Payer, actor: User) -> str | None:
    """Add an alias, match with it inside the transaction, then fail: what the matcher saw."""
    seen: list[str | None] = []
    with contextlib.suppress(RuntimeError), transaction.atomic():
        payer_alias_add(payer=payer, alias="Great-West", source="staff", actor=actor)
        seen.append(payer_match(text="Great-West").slug)  # cached under its own token
        raise RuntimeError
    return seen[0]


def test_it_forgets_an_alias_whose_transaction_rolled_back(cigna: Payer, manager: User) -> None:
    payer_match(text="warm up")  # the index of the committed directory is cached

    assert _add_and_roll_back(cigna, manager) == "cigna"

    assert payer_match(text="Great-West").slug is None
