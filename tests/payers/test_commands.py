"""manage.py match_payer and seed_payers."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from apps.payers.models import Payer

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_it_prints_one_line_per_name_with_slug_tab_score() -> None:
    output = _run("match_payer", "cigna", "Signa", "Humana Military", "not sure", "UHC choice plus")

    lines = output.splitlines()
    assert [line.split("\t")[0] for line in lines] == [
        "cigna",
        "cigna",
        "tricare",
        "-",
        "unitedhealthcare",
    ]
    assert lines[0] == "cigna\t100.0"
    assert lines[3] == "-\t0.0"
    assert all(len(line.split("\t")[1].split(".")[1]) == 1 for line in lines)


def test_it_prints_a_dash_and_the_score_that_fell_short() -> None:
    slug, score = _run("match_payer", "Aetnq").strip().split("\t")

    assert slug == "-"
    assert 0 < float(score) < 88


def test_it_seeds_the_directory_idempotently() -> None:
    Payer.objects.all().delete()

    first = _run("seed_payers")
    second = _run("seed_payers")

    assert Payer.objects.count() == 16
    assert first != second
    assert second.strip() == "payer directory: 0 rows changed"
