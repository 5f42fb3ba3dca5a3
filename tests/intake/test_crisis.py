"""Crisis language detection: the phrase table, normalization, negation and several fields.

The table (``data/crisis_phrases.csv``: text, expected, note) is the behaviour's specification:
each row asserts the exact set of signals, so a phrase that starts or stops matching fails a
row. Pure functions, no database.
"""

from __future__ import annotations

import csv
import dataclasses
import doctest
import json
import re
from pathlib import Path
from typing import NamedTuple

import pytest

from apps.intake import crisis
from apps.intake.crisis import (
    CRISIS_RESOURCES,
    CrisisAssessment,
    CrisisSignal,
    crisis_assess,
    normalize,
)

TABLE = Path(__file__).parent / "data" / "crisis_phrases.csv"


class Row(NamedTuple):
    line: int
    text: str
    expected: frozenset[CrisisSignal]
    note: str


def _load_table() -> list[Row]:
    with TABLE.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames is not None
        assert reader.fieldnames[:2] == ["text", "expected"]
        return [
            Row(
                line=reader.line_num,
                text=row["text"],
                expected=frozenset(CrisisSignal(s) for s in row["expected"].split(";") if s),
                note=row.get("note") or "",
            )
            for row in reader
        ]


ROWS = _load_table()


def _row_id(row: Row) -> str:
    return f"L{row.line}-{row.text[:40]!r}"


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_it_finds_exactly_the_expected_signals(row: Row) -> None:
    assessment = crisis_assess(row.text)

    assert frozenset(assessment.signals) == row.expected, row.note
    assert assessment.is_crisis is bool(row.expected)


def test_the_table_is_broad_enough() -> None:
    def count(signal: CrisisSignal | None) -> int:
        if signal is None:
            return sum(1 for row in ROWS if not row.expected)
        return sum(1 for row in ROWS if signal in row.expected)

    assert len(ROWS) >= 120
    assert count(None) >= 60
    assert count(CrisisSignal.SUICIDE) >= 40
    assert count(CrisisSignal.OVERDOSE) >= 25
    assert count(CrisisSignal.SELF_HARM) >= 20
    assert len({row.text for row in ROWS}) == len(ROWS), "duplicate rows"


def _normalized_rows() -> list[tuple[str, frozenset[CrisisSignal]]]:
    return [(normalize(row.text), row.expected) for row in ROWS]


@pytest.mark.parametrize(
    ("signal", "phrases"),
    [
        (CrisisSignal.SUICIDE, crisis.SUICIDE_PHRASES),
        (CrisisSignal.OVERDOSE, crisis.OVERDOSE_PHRASES),
        (CrisisSignal.SELF_HARM, crisis.SELF_HARM_PHRASES),
    ],
)
def test_every_phrase_has_a_flagged_row(signal: CrisisSignal, phrases: tuple[str, ...]) -> None:
    rows = _normalized_rows()
    untested = [
        phrase
        for phrase in phrases
        if not any(
            signal in expected and re.search(rf"\b(?:{phrase})\b", text) for text, expected in rows
        )
    ]

    assert untested == [], "add a row to crisis_phrases.csv for each of these"


def test_every_benign_phrase_has_a_row() -> None:
    rows = _normalized_rows()
    untested = [
        phrase
        for phrase in crisis.BENIGN_PHRASES
        if not any(re.search(rf"\b(?:{phrase})\b", text) for text, _ in rows)
    ]

    assert untested == [], "add a row to crisis_phrases.csv for each of these"


# --- normalization ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'm NOT Suicidal", "im not suicidal"),
        ("Suicídarme, sobredosis", "suicidarme | sobredosis"),
        ("no quiero hacerme daño", "no quiero hacerme dano"),
        ("DON’T   want\tto  live", "dont want to live"),
        ("self-harm", "self harm"),
        ("wanna dieeee 💀💀", "wanna die"),
        ("sooo sad... really", "so sad | really"),
        ("he OD'd", "he oded"),
        ("he O.D.'d", "he oded"),
        ("an O.D. last week", "an od last week"),
        ("No. I want to die!", "no | i want to die"),
        ("¿Qué pasó? ¡Ayuda!", "que paso | ayuda"),
        ("line one\nline two", "line one | line two"),
        ("Straße", "strasse"),
        ("call 988 at 3am", "call 988 at 3am"),
        ("", ""),
        ("  ,,, !!  ", ""),
        ("🙏", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_normalize_keeps_double_letters() -> None:
    assert normalize("killed a bottle") == "killed a bottle"


# --- negation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not suicidal", ()),
        ("not really suicidal", ()),
        ("not at all suicidal", ()),  # negator three words before the phrase
        ("not at all really suicidal", (CrisisSignal.SUICIDE,)),  # four: out of reach
        ("not suicidal. suicidal", (CrisisSignal.SUICIDE,)),  # a clause break ends it
        ("not sure, but suicidal", (CrisisSignal.SUICIDE,)),
        ("no longer suicidal", (CrisisSignal.SUICIDE,)),  # a history, not a denial
        ("not going to hurt myself", ()),
        ("not going to hurt myself again", (CrisisSignal.SELF_HARM,)),
        ("no quiero vivir", (CrisisSignal.SUICIDE,)),  # the phrase's own "no"
        ("no quiero morir", ()),
    ],
)
def test_negation_window(text: str, expected: tuple[CrisisSignal, ...]) -> None:
    assert crisis_assess(text).signals == expected


def test_a_negated_phrase_does_not_hide_a_later_one() -> None:
    assessment = crisis_assess("never overdosed, but he overdosed yesterday")

    assert assessment.signals == (CrisisSignal.OVERDOSE,)


def test_a_benign_idiom_does_not_hide_a_real_phrase() -> None:
    assessment = crisis_assess("we watched suicide squad and now I feel suicidal")

    assert assessment.signals == (CrisisSignal.SUICIDE,)


# --- several texts ---------------------------------------------------------------------------


def test_it_reads_every_text_and_orders_signals_canonically() -> None:
    assessment = crisis_assess("cutting myself", "", "my son overdosed", "I want to die")

    assert assessment.signals == (
        CrisisSignal.SUICIDE,
        CrisisSignal.OVERDOSE,
        CrisisSignal.SELF_HARM,
    )
    assert assessment.is_crisis is True


def test_each_signal_is_listed_once() -> None:
    assessment = crisis_assess("suicidal", "SUICIDAL", "quiero morir")

    assert assessment.signals == (CrisisSignal.SUICIDE,)


def test_empty_and_missing_texts_are_not_a_crisis() -> None:
    assert crisis_assess() == CrisisAssessment(signals=())
    assert crisis_assess("", None, "   ").is_crisis is False


def test_a_phrase_never_spans_two_fields() -> None:
    assert crisis_assess("please don't let me kill", "myself out of boredom").signals == ()
    assert crisis_assess("kill myself").is_crisis is True


def test_a_negation_in_one_field_does_not_reach_another() -> None:
    assert crisis_assess("not", "suicidal").signals == (CrisisSignal.SUICIDE,)


def test_the_assessment_is_immutable_and_stores_plain_strings() -> None:
    assessment = crisis_assess("my daughter is suicidal and self harming")

    with pytest.raises(dataclasses.FrozenInstanceError):
        assessment.signals = ()  # type: ignore[misc]
    assert [str(signal) for signal in assessment.signals] == ["suicide", "self_harm"]
    assert json.dumps(assessment.signals) == '["suicide", "self_harm"]'


def test_a_long_message_is_read_to_the_end() -> None:
    text = "Please verify my insurance for detox. " * 140 + "I have been thinking about suicide."

    assert len(text) > 5000
    assert crisis_assess(text).signals == (CrisisSignal.SUICIDE,)


# --- resources -------------------------------------------------------------------------------


def test_the_resources_name_988_and_911_and_are_json() -> None:
    lifeline = CRISIS_RESOURCES["lifeline"]
    emergency = CRISIS_RESOURCES["emergency"]

    assert isinstance(lifeline, dict)
    assert isinstance(emergency, dict)
    assert lifeline["call"] == "988"
    assert lifeline["text"] == "988"
    assert str(lifeline["chat"]).startswith("https://988lifeline.org/")
    assert emergency["call"] == "911"
    assert "988" in str(CRISIS_RESOURCES["spanish"])
    assert "oprima 2" in str(CRISIS_RESOURCES["spanish"])
    assert json.loads(json.dumps(CRISIS_RESOURCES)) == CRISIS_RESOURCES


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(crisis).failed == 0
