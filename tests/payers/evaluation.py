"""Reading the evaluation files: (typed, expected slug or None) rows."""

from __future__ import annotations

import csv
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
EVALUATION_SET = DATA_DIR / "payer_names.csv"
SHARED_SAMPLE = DATA_DIR / "payer-names-sample.csv"


def evaluation_rows(path: Path) -> list[tuple[str, str | None]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            (row["typed"], row["expected_slug"].strip() or None) for row in csv.DictReader(handle)
        ]
