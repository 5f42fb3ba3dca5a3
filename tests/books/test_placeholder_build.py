"""The placeholder book in git is exactly what ``book_placeholder_build`` draws."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from django.core.management import call_command
from PIL import PdfParser

from apps.books.management.commands.book_placeholder_build import DEFAULT_OUTPUT


def test_the_build_reproduces_the_shipped_placeholder(tmp_path: Path) -> None:
    output = tmp_path / "book.pdf"

    call_command("book_placeholder_build", "--output", str(output), stdout=StringIO())

    assert output.read_bytes() == DEFAULT_OUTPUT.read_bytes()


def test_the_placeholder_is_a_small_three_page_pdf_that_says_what_it_is() -> None:
    assert DEFAULT_OUTPUT.read_bytes().startswith(b"%PDF-")
    assert DEFAULT_OUTPUT.stat().st_size < 32 * 1024

    pdf = PdfParser.PdfParser(str(DEFAULT_OUTPUT))  # parses the xref table and trailer
    try:
        info = {str(key.name_as_str()): PdfParser.decode_text(value) for key, value in
                pdf.info.items() if key.name_as_str() in ("Title", "Subject")}  # fmt: skip
        assert len(pdf.pages) == 3
    finally:
        pdf.close()
    assert info == {
        "Title": "Meet the Book That's Changing Lives",
        "Subject": "Placeholder: replace with BOOK_FILE",
    }
