"""The matcher on names people type: never a wrong payer, and most known names resolved.

``data/payer_names.csv`` was collected for this project (misspellings, casing, products, regional
Blues, Spanish, sentences, payers outside the directory, hedges); ``data/payer-names-sample.csv``
is the shared sample, copied so the suite never reads ``../shared``.
"""

from __future__ import annotations

import pytest

from apps.payers.selectors import payer_match
from tests.payers.evaluation import EVALUATION_SET, SHARED_SAMPLE, evaluation_rows

pytestmark = pytest.mark.django_db

MIN_RECALL = 0.95


def _wrong_guesses(rows: list[tuple[str, str | None]]) -> list[tuple[str, str | None, str]]:
    wrong = []
    for typed, expected in rows:
        match = payer_match(text=typed)
        if match.slug is not None and match.slug != expected:
            wrong.append((typed, expected, match.slug))
    return wrong


def test_it_collects_at_least_150_names_with_positives_and_negatives() -> None:
    rows = evaluation_rows(EVALUATION_SET)

    assert len(rows) >= 150
    assert sum(1 for _, expected in rows if expected is None) >= 50
    assert len({typed for typed, _ in rows}) == len(rows)


def test_it_makes_no_wrong_guess_on_the_evaluation_set() -> None:
    assert _wrong_guesses(evaluation_rows(EVALUATION_SET)) == []


def test_it_resolves_at_least_95_percent_of_the_evaluation_names_that_have_a_payer() -> None:
    positives = [(typed, slug) for typed, slug in evaluation_rows(EVALUATION_SET) if slug]
    missed = [(typed, slug) for typed, slug in positives if payer_match(text=typed).slug != slug]

    recall = 1 - len(missed) / len(positives)
    assert recall >= MIN_RECALL, missed


def test_it_makes_no_wrong_guess_on_the_shared_sample() -> None:
    assert _wrong_guesses(evaluation_rows(SHARED_SAMPLE)) == []


def test_it_resolves_every_name_of_the_shared_sample_as_expected() -> None:
    rows = evaluation_rows(SHARED_SAMPLE)

    assert [(typed, payer_match(text=typed).slug) for typed, _ in rows] == rows
