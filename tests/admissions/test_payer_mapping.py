"""The payer mapping queue: names the matcher left for a human, grouped with counts; mapping one
teaches the matcher and resolves every waiting lead."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from apps.admissions.services import payer_text_map
from apps.leads.models import Submission
from apps.leads.selectors import submission_payer_mapping_queue
from apps.payers.exceptions import PayerAliasConflictError
from apps.payers.models import Payer, PayerAlias
from apps.privacy.crypto import blind_index
from tests.admissions.factories import lead_make
from tests.conftest import VERIFICATION_PATH, staff_client_for

pytestmark = pytest.mark.django_db
TYPED = "Golden Bear Workers Trust"


def _waiting(text: str, n: int) -> list[Submission]:
    return [lead_make(insurance_provider_text=text, payer=None) for _ in range(n)]


def test_waiting_names_are_grouped_with_counts_most_first() -> None:
    _waiting(TYPED, 3)
    _waiting("Zed Health Co-op", 1)
    lead_make(insurance_provider_text="Aetna", payer=Payer.objects.get(slug="aetna"))
    lead_make(kind="contact", insurance_provider_text="", payer=None)

    rows = submission_payer_mapping_queue()

    assert [(r["insurance_provider_text"], r["leads"]) for r in rows] == [
        (TYPED, 3),
        ("Zed Health Co-op", 1),
    ]


def test_mapping_a_name_resolves_every_waiting_lead_and_rekeys_member_ids(
    coordinator: User,
) -> None:
    waiting = _waiting(TYPED, 2)
    other = _waiting("Zed Health Co-op", 1)
    payer = Payer.objects.get(slug="aetna")

    resolved = payer_text_map(text=TYPED, payer=payer, actor=coordinator)

    assert resolved == 2
    for lead in waiting:
        lead.refresh_from_db()
        assert lead.payer_id == payer.pk
        assert lead.member_id_index == blind_index("member", lead.member_id.upper(), "aetna")
    other[0].refresh_from_db()
    assert other[0].payer_id is None
    alias = PayerAlias.objects.get(alias=TYPED)
    assert (alias.source, alias.created_by) == ("staff", coordinator)
    assert submission_payer_mapping_queue()[0]["insurance_provider_text"] == "Zed Health Co-op"


def test_the_matcher_uses_the_mapping_for_the_next_post(
    api_client: APIClient, verification_body: dict[str, Any], coordinator: User
) -> None:
    api_client.post(
        VERIFICATION_PATH, {**verification_body, "insurance_provider": TYPED}, format="json"
    )
    assert Submission.objects.get().payer_id is None
    payer = Payer.objects.get(slug="aetna")

    payer_text_map(text=TYPED, payer=payer, actor=coordinator)
    api_client.post(
        VERIFICATION_PATH,
        {**verification_body, "insurance_provider": TYPED, "email": "other@example.org"},
        format="json",
    )

    assert list(Submission.objects.values_list("payer_id", flat=True)) == [payer.pk, payer.pk]


def test_a_name_that_means_another_payer_is_refused(coordinator: User) -> None:
    _waiting("Cigna", 1)

    with pytest.raises(PayerAliasConflictError):
        payer_text_map(text="Cigna", payer=Payer.objects.get(slug="aetna"), actor=coordinator)


def test_the_mapping_page_lists_and_maps(coordinator: User) -> None:
    _waiting(TYPED, 2)
    client = staff_client_for(coordinator)
    url = "/admin/leads/submission/payer-mapping/"

    page = client.get(url)
    assert page.status_code == 200
    assert TYPED in page.content.decode()

    mapped = client.post(
        url, {"text": TYPED, "payer": Payer.objects.get(slug="aetna").pk}, follow=True
    )
    assert mapped.status_code == 200
    assert "2 waiting lead(s) resolved" in mapped.content.decode()
    assert not Submission.objects.filter(payer__isnull=True).exists()


def test_the_mapping_page_is_not_for_marketing(marketer: User) -> None:
    response = staff_client_for(marketer).get("/admin/leads/submission/payer-mapping/")
    assert response.status_code in (302, 403)
