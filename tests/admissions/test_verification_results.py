"""Verification results: what the payer said, stored encrypted, setting the matching status."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection

from apps.admissions.exceptions import VerificationInvalidError
from apps.admissions.models import VerificationResult
from apps.admissions.services import Benefits, verification_result_record
from apps.leads.models import Submission
from tests.admissions.factories import lead_make

pytestmark = pytest.mark.django_db
Status = Submission.Status

FULL = Benefits(
    network="in_network",
    plan_type="ppo",
    deductible_met="1200",
    deductible_total="3000",
    out_of_pocket_met="1500",
    out_of_pocket_total="6500",
    coinsurance_percent="20",
    preauthorization_required=True,
    covered_levels_of_care=("detox", "residential", "iop"),
    payer_call_reference="CALL-778812",
)


@pytest.mark.parametrize(
    ("network", "status"),
    [
        ("in_network", Status.VERIFIED_IN_NETWORK),
        ("out_of_network", Status.VERIFIED_OUT_OF_NETWORK),
        ("no_coverage", Status.NO_COVERAGE),
    ],
)
def test_it_sets_the_matching_verified_status(coordinator: User, network: str, status: str) -> None:
    lead = lead_make(status=Status.VERIFYING)

    verification_result_record(
        submission=lead, actor=coordinator, benefits=Benefits(network=network)
    )

    lead.refresh_from_db()
    assert lead.status == status
    assert lead.first_touched_at is not None


def test_it_keeps_every_detail_and_reads_them_back(coordinator: User) -> None:
    row = verification_result_record(submission=lead_make(), actor=coordinator, benefits=FULL)

    stored = VerificationResult.objects.get(pk=row.pk)
    assert stored.plan_type == "ppo"
    assert (stored.deductible_met, stored.deductible_total) == ("1200", "3000")
    assert (stored.out_of_pocket_met, stored.out_of_pocket_total) == ("1500", "6500")
    assert stored.coinsurance_percent == "20"
    assert stored.preauthorization_required == "yes"
    assert stored.covered_levels == ["detox", "residential", "iop"]
    assert stored.payer_call_reference == "CALL-778812"
    assert stored.created_by == coordinator


def test_the_details_are_encrypted_in_the_database(coordinator: User) -> None:
    verification_result_record(submission=lead_make(), actor=coordinator, benefits=FULL)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT plan_type, deductible_total, covered_levels_of_care, payer_call_reference "
            "FROM admissions_verificationresult"
        )
        raw = " ".join(cursor.fetchone())
    for plain in ("ppo", "3000", "residential", "CALL-778812"):
        assert plain not in raw


def test_an_admitted_lead_keeps_its_status(coordinator: User) -> None:
    lead = lead_make(status=Status.ADMITTED)

    verification_result_record(submission=lead, actor=coordinator, benefits=FULL)

    lead.refresh_from_db()
    assert lead.status == Status.ADMITTED
    assert VerificationResult.objects.count() == 1


@pytest.mark.parametrize(
    "bad",
    [
        Benefits(network="maybe"),
        Benefits(network="in_network", plan_type="gold"),
        Benefits(network="in_network", coinsurance_percent="120"),
        Benefits(network="in_network", deductible_total="lots"),
        Benefits(network="in_network", covered_levels_of_care=("spa",)),
    ],
)
def test_bad_values_are_refused(coordinator: User, bad: Benefits) -> None:
    with pytest.raises(VerificationInvalidError):
        verification_result_record(submission=lead_make(), actor=coordinator, benefits=bad)
    assert not VerificationResult.objects.exists()
