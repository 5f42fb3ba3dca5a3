"""CSV and XLSX writers for contact lists: streaming, hashed as written, formula-safe.

Formula injection: a spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and
some treat a leading tab or carriage return the same way), so such a cell is written with a
leading apostrophe, which spreadsheets show as text. One exception: a complete E.164 number
(``+`` then 7-15 digits) is left as it is; it cannot hold a formula, and a mail or SMS platform
importing the list needs the ``+`` intact.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import hashlib
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
PROGRESS_EVERY = 10_000

Progress = Callable[[int], None]


def cell_neutralize(value: str) -> str:
    """``value`` as a spreadsheet will show it, never run it."""
    if value.startswith(FORMULA_PREFIXES) and not _E164.fullmatch(value):
        return "'" + value
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return cell_neutralize(str(value))


@dataclass(frozen=True)
class WriteResult:
    rows: int
    size_bytes: int
    sha256: str


class _HashingWriter(io.RawIOBase):
    """A binary sink that hashes and counts what passes through to ``target``."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.digest.update(chunk)
        self.size += len(chunk)
        self.target.write(chunk)
        return len(chunk)


def csv_write(
    *,
    rows: Iterable[Sequence[Any]],
    header: Sequence[str],
    out: IO[bytes],
    bom: bool = False,
    progress: Progress | None = None,
) -> WriteResult:
    """UTF-8 CSV (with a byte-order mark for Excel when ``bom``), one row in memory at a time."""
    sink = _HashingWriter(out)
    text = io.TextIOWrapper(
        io.BufferedWriter(sink, buffer_size=1 << 16), encoding="utf-8", newline=""
    )
    if bom:
        text.write(codecs.BOM_UTF8.decode("utf-8"))
    # Every field quoted, LF line ends: what PostgreSQL's COPY writes with FORCE_QUOTE (pg_copy),
    # so both paths give the same bytes; quoting also keeps a stray CR inside its cell.
    writer = csv.writer(text, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([_cell(value) for value in row])
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
    text.flush()
    text.detach().flush()
    return WriteResult(rows=count, size_bytes=sink.size, sha256=sink.digest.hexdigest())


def xlsx_write(
    *,
    rows: Iterable[Sequence[Any]],
    header: Sequence[str],
    path: Path,
    progress: Progress | None = None,
) -> WriteResult:
    """An XLSX file (openpyxl write-only: rows go to a temporary file, not a tree in memory).

    Every cell is written as text (times as ISO 8601 UTC). openpyxl stores a string starting
    with ``=`` as a formula; neutralized cells never start with one.
    """
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("contacts")
    sheet.append(list(header))
    count = 0
    for row in rows:
        sheet.append([_cell(value) for value in row])
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
    workbook.save(str(path))
    digest = hashlib.sha256()
    with path.open("rb") as saved:
        for block in iter(lambda: saved.read(1 << 20), b""):
            digest.update(block)
    return WriteResult(rows=count, size_bytes=path.stat().st_size, sha256=digest.hexdigest())
