"""Writers and the command: formula injection neutralized, XLSX readable by openpyxl, UTF-8
with an optional BOM, incremental exports per destination, the run recorded with its hash."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl import load_workbook

from apps.leads.models import Person
from apps.marketing.models import ExportRun
from apps.marketing.selectors import CONTACT_COLUMNS
from apps.marketing.writers import cell_neutralize, csv_write, xlsx_write
from tests.marketing.conftest import PostPerson

DANGEROUS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR", '=HYPERLINK("http://x")']


@pytest.mark.parametrize("value", DANGEROUS)
def test_formula_cells_are_neutralized(value: str) -> None:
    assert cell_neutralize(value) == "'" + value


@pytest.mark.parametrize("value", ["Ann", "", "+15551234567", "O'Neil", "a=b", "José"])
def test_ordinary_cells_and_e164_numbers_are_left_alone(value: str) -> None:
    assert cell_neutralize(value) == value


@pytest.mark.parametrize("value", ["+1 555", "+15551234567=", "+1555123456789012"])
def test_only_a_complete_e164_number_keeps_its_plus(value: str) -> None:
    assert cell_neutralize(value).startswith("'")


def test_csv_and_xlsx_hold_the_same_neutralized_cells(tmp_path: Path) -> None:
    rows = [(value, "José", None) for value in DANGEROUS]
    out = io.BytesIO()
    result = csv_write(rows=rows, header=("a", "b", "c"), out=out, bom=True)
    data = out.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    assert result.rows == len(DANGEROUS)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.size_bytes == len(data)
    xlsx = tmp_path / "out.xlsx"
    xlsx_write(rows=rows, header=("a", "b", "c"), path=xlsx)
    sheet = load_workbook(xlsx).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("a", "b", "c")
    assert [row[0] for row in values[1:]] == ["'" + v for v in DANGEROUS]
    assert all(row[1] == "José" for row in values[1:])
    assert all(cell.data_type == "s" for row in sheet.iter_rows(min_row=2) for cell in row[:2])


@pytest.mark.django_db
def test_the_command_writes_a_file_and_records_the_run(
    post_person: PostPerson, tmp_path: Path
) -> None:
    post_person(first_name="@SUM(1)")
    out = tmp_path / "list.xlsx"
    stdout = io.StringIO()
    call_command(
        "export_contacts",
        channel="email",
        since="2020-01-01",
        format="xlsx",
        output=str(out),
        stdout=stdout,
    )
    rows = list(load_workbook(out, read_only=True).active.iter_rows(values_only=True))
    assert rows[0] == CONTACT_COLUMNS
    assert rows[1][0] == "'@SUM(1)"
    run = ExportRun.objects.get()
    assert run.via == ExportRun.Via.COMMAND
    assert run.rows_written == 1
    assert run.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert run.filters["since"].startswith("2020-01-01")
    assert run.sha256 in stdout.getvalue()


@pytest.mark.django_db
def test_the_command_refuses_inquiries_without_the_acknowledgement(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="42 CFR"):
        call_command(
            "export_contacts",
            channel="email",
            output=str(tmp_path / "x.csv"),
            signup_kind="all",
            include_inquiries=True,
            stderr=io.StringIO(),
        )
    with pytest.raises(CommandError, match="not a date"):
        call_command(
            "export_contacts", channel="email", since="yesterday", output=str(tmp_path / "x.csv")
        )


@pytest.mark.django_db
def test_incremental_exports_start_where_the_last_one_stopped(
    post_person: PostPerson, tmp_path: Path, time_machine: Any
) -> None:
    def settle() -> None:
        # An incremental export lists people whose intake had time to commit.
        time_machine.move_to(
            timezone.now() + datetime.timedelta(seconds=settings.EXPORT_SETTLING_SECONDS + 1)
        )

    def export() -> list[str]:
        out = tmp_path / "inc.csv"
        call_command(
            "export_contacts",
            channel="email",
            output=str(out),
            destination="Mailchimp",
            incremental=True,
            stdout=io.StringIO(),
        )
        return [row[0] for row in csv.reader(out.read_text().splitlines()[1:])]

    first = post_person(first_name="First")
    settle()
    assert export() == ["First"]
    assert export() == []
    post_person(first_name="Second")
    settle()
    assert export() == ["Second"]
    # Another destination starts from the beginning.
    out = tmp_path / "other.csv"
    call_command(
        "export_contacts",
        channel="email",
        output=str(out),
        destination="Ads",
        incremental=True,
        stdout=io.StringIO(),
    )
    assert len(out.read_text().splitlines()) == 3
    assert Person.objects.filter(pk=first.pk).exists()
