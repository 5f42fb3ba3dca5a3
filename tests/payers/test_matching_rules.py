"""The matcher's rules, one behaviour each (``apps.payers.matching`` through ``payer_match``)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pytest_django.fixtures import Settings

from apps.payers.matching import MAX_TOKENS
from apps.payers.models import Payer
from apps.payers.selectors import payer_match

pytestmark = pytest.mark.django_db


def test_it_resolves_the_dropdown_slug_with_score_100() -> None:
    match = payer_match(text="self-pay")

    assert (match.slug, match.score, match.method) == ("self-pay", 100.0, "slug")


def test_it_returns_the_payer_row_with_its_slug(cigna: Payer) -> None:
    match = payer_match(text="cigna")

    assert match.payer == cigna
    assert match.payer is not None
    assert match.payer.in_network is True


def test_it_resolves_a_directory_alias_exactly() -> None:
    match = payer_match(text="Open Access Plus")

    assert (match.slug, match.score, match.method) == ("cigna", 100.0, "alias")


def test_it_resolves_a_name_inside_a_sentence() -> None:
    match = payer_match(text="I have Aetna through work")

    assert (match.slug, match.method) == ("aetna", "alias")
    assert django_settings.PAYER_MATCH_THRESHOLD <= match.score < 100


def test_it_resolves_a_misspelling_by_fuzzy_matching() -> None:
    match = payer_match(text="Aetana")

    assert (match.slug, match.method) == ("aetna", "fuzzy")
    assert django_settings.PAYER_MATCH_THRESHOLD <= match.score < 100


def test_it_resolves_a_sound_alike_misspelling() -> None:
    assert payer_match(text="Signa").slug == "cigna"


def test_it_resolves_other_spacing_of_a_name() -> None:
    assert payer_match(text="Unitedhealth care").slug == "unitedhealthcare"


def test_it_leaves_a_name_below_the_threshold_unresolved(settings: Settings) -> None:
    settings.PAYER_MATCH_THRESHOLD = 99.0

    match = payer_match(text="Aetana")

    assert (match.payer, match.slug, match.method) == (None, None, "none")
    assert 0 < match.score < 99


def test_it_leaves_a_phrase_match_unresolved_when_the_threshold_is_above_it(
    settings: Settings,
) -> None:
    settings.PAYER_MATCH_THRESHOLD = 99.0

    assert payer_match(text="I have Aetna through work").slug is None


def test_it_reads_humana_military_as_tricare() -> None:
    assert payer_match(text="Humana Military").slug == "tricare"


def test_it_reads_a_misspelled_humana_military_as_tricare_not_humana() -> None:
    assert payer_match(text="Humana Militar").slug == "tricare"


def test_it_leaves_medicare_advantage_unresolved() -> None:
    match = payer_match(text="Medicare Advantage")

    assert (match.payer, match.slug) == (None, None)


def test_it_reads_a_private_payers_medicare_advantage_plan_as_that_payer() -> None:
    assert payer_match(text="Humana Medicare Advantage").slug == "humana"


def test_it_keeps_medicare_and_a_supplement_unresolved() -> None:
    assert payer_match(text="Medicare with Humana supplement").slug is None


def test_it_reads_health_net_federal_services_as_tricare_but_not_health_net() -> None:
    assert payer_match(text="Health Net Federal Services").slug == "tricare"
    assert payer_match(text="Health Net").slug is None


@pytest.mark.parametrize(
    "typed",
    ["Anthem", "Anthem Blue Cross", "Empire BlueCross BlueShield", "HealthKeepers", "Elevance",
     "Blue Cross of California", "Blue Cross Anthem"],
)  # fmt: skip
def test_it_reads_anthem_branded_blues_as_anthem(typed: str) -> None:
    assert payer_match(text=typed).slug == "anthem"


@pytest.mark.parametrize(
    "typed",
    ["Blue Cross Blue Shield", "BCBS of Texas", "blue cross of texas", "bluecross", "Highmark",
     "Premera", "Regence", "CareFirst", "Florida Blue", "Horizon", "Independence Blue Cross",
     "Wellmark", "Excellus", "Blue Shield of California", "FEP", "Federal Employee Program",
     "Blue Care Network", "BCBSTX", "B.C.B.S."],
)  # fmt: skip
def test_it_reads_every_other_blue_as_bcbs(typed: str) -> None:
    assert payer_match(text=typed).slug == "bcbs"


@pytest.mark.parametrize(
    "typed",
    ["no insurance", "uninsured", "none", "cash", "self pay", "private pay",
     "I don't have insurance", "no tengo seguro", "sin seguro"],
)  # fmt: skip
def test_it_reads_no_insurance_as_self_pay(typed: str) -> None:
    assert payer_match(text=typed).slug == "self-pay"


@pytest.mark.parametrize("typed", ["UMR", "UHC", "Ohio", "Oscar", "OAP", "FEP"])
def test_it_never_fuzzy_matches_a_short_name(typed: str) -> None:
    match = payer_match(text=typed)

    assert match.method in {"slug", "alias", "none"}


def test_it_does_not_read_a_short_near_miss_as_a_payer() -> None:
    assert payer_match(text="UMC").slug is None


def test_it_leaves_two_payers_unresolved() -> None:
    assert payer_match(text="Cigna or Aetna").slug is None


@pytest.mark.parametrize(
    "typed", ["not Humana", "used to have Cigna", "Medi-Cal pending", "not sure maybe Aetna"]
)
def test_it_leaves_a_negated_or_hedged_payer_unresolved(typed: str) -> None:
    assert payer_match(text=typed).slug is None


@pytest.mark.parametrize(
    "typed",
    ["Tufts Health Plan", "Geisinger", "Health Partners", "Harvard Pilgrim",
     "Baylor Scott & White", "Centene", "don't know", "n/a", "", "   ", "asdf", "insurance",
     "my work insurance", "the one through my job", "Medical", "TriWest VA CCN", "Medica"],
)  # fmt: skip
def test_it_leaves_a_name_outside_the_directory_unresolved(typed: str) -> None:
    match = payer_match(text=typed)

    assert (match.payer, match.slug, match.method) == (None, None, "none")


def test_it_reads_only_the_first_words_of_a_pasted_paragraph() -> None:
    paragraph = " ".join(["word"] * MAX_TOKENS + ["Cigna"])

    assert payer_match(text=paragraph).slug is None


@hypothesis_settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300))
def test_it_answers_any_text_with_a_payer_above_the_threshold_or_nothing(text: str) -> None:
    match = payer_match(text=text)

    assert 0 <= match.score <= 100
    if match.slug is None:
        assert (match.payer, match.method) == (None, "none")
    else:
        assert match.payer is not None
        assert match.payer.slug == match.slug
        assert match.score >= django_settings.PAYER_MATCH_THRESHOLD
