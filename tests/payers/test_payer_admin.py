"""The read-mostly admin: payers with their alias counts; aliases added and removed by staff."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.payers.models import Payer, PayerAlias
from apps.payers.selectors import payer_match

pytestmark = pytest.mark.django_db


def test_it_lists_payers_with_their_alias_counts(admin_client: Client) -> None:
    response = admin_client.get("/admin/payers/payer/")

    assert response.status_code == 200
    cigna = response.context["cl"].result_list.get(slug="cigna")
    assert cigna.alias_total == PayerAlias.objects.filter(payer__slug="cigna").count() > 0


def test_it_shows_a_payer_with_its_aliases(admin_client: Client) -> None:
    cigna = Payer.objects.get(slug="cigna")

    response = admin_client.get(f"/admin/payers/payer/{cigna.pk}/change/")

    assert response.status_code == 200
    assert "Open Access Plus" in response.content.decode()


def test_it_hides_a_payer_from_the_dropdown(admin_client: Client) -> None:
    molina = Payer.objects.get(slug="molina")

    # The aliases inline is read-only: its management form is all the browser sends of it.
    response = admin_client.post(
        f"/admin/payers/payer/{molina.pk}/change/",
        {"active": "", "aliases-TOTAL_FORMS": "0", "aliases-INITIAL_FORMS": "0"},
    )

    assert response.status_code == 302
    molina.refresh_from_db()
    assert molina.active is False
    assert (molina.in_network, molina.name) == (False, "Molina Healthcare")


def test_it_adds_a_staff_alias_the_matcher_uses_at_once(admin_client: Client) -> None:
    cigna = Payer.objects.get(slug="cigna")
    assert payer_match(text="Great-West Healthcare").slug is None

    response = admin_client.post(
        "/admin/payers/payeralias/add/", {"payer": cigna.pk, "alias": "Great-West Healthcare"}
    )

    assert response.status_code == 302
    row = PayerAlias.objects.get(normalized="great west healthcare")
    assert (row.payer, row.source, row.created_by is not None) == (cigna, "staff", True)
    assert payer_match(text="Great-West Healthcare").slug == "cigna"


def test_it_refuses_an_alias_that_already_means_another_payer(admin_client: Client) -> None:
    ambetter = Payer.objects.get(slug="ambetter")

    response = admin_client.post(
        "/admin/payers/payeralias/add/", {"payer": ambetter.pk, "alias": "Cigna Healthcare"}
    )

    assert response.status_code == 200
    assert "already resolves to Cigna Healthcare" in response.content.decode()
    assert payer_match(text="Cigna Healthcare").slug == "cigna"


def test_it_removes_an_alias_so_the_matcher_forgets_it(admin_client: Client) -> None:
    alias = PayerAlias.objects.get(normalized="golden rule")

    response = admin_client.post(f"/admin/payers/payeralias/{alias.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not PayerAlias.objects.filter(pk=alias.pk).exists()
    assert payer_match(text="Golden Rule").slug is None
