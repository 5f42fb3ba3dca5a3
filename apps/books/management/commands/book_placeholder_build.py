"""``manage.py book_placeholder_build``: regenerate the placeholder book PDF that ships in git.

The real book is an operator's file: set ``BOOK_FILE`` to its path. Until then the download
link serves ``apps/books/assets/book.pdf``, three plain pages drawn here with Pillow's built-in
font (1-bit, 150 dpi, CCITT G4: about 10 KB). The output is byte-for-byte reproducible (fixed
dates, fixed metadata), so rebuilding it shows no diff unless this script changed.

This command never writes to ``settings.BOOK_FILE``: that may be the real book.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from PIL import Image, ImageDraw, ImageFont

DEFAULT_OUTPUT = Path(__file__).resolve().parents[2] / "assets" / "book.pdf"
TITLE = "Meet the Book That's Changing Lives"
DPI = 150
PAGE_SIZE = (int(8.5 * DPI), int(11 * DPI))  # US Letter
MARGIN = DPI  # one inch
# A fixed date keeps the file reproducible (Pillow would stamp the current time).
FIXED_DATE = time.gmtime(1_735_689_600)  # 2025-01-01T00:00:00Z

# (font size in points, text); "" is a blank line.
PAGES: list[list[tuple[int, str]]] = [
    [
        (14, "PLACEHOLDER: replace with BOOK_FILE"),
        (14, ""),
        (14, ""),
        (34, TITLE),
        (14, ""),
        (
            16,
            "Stories, first steps and practical help for people in recovery "
            "and the families who stand beside them.",
        ),
    ],
    [
        (20, "About this file"),
        (12, ""),
        (
            12,
            "This PDF is a placeholder that ships with the website backend so that "
            "the book download link works from the first day.",
        ),
        (12, ""),
        (
            12,
            "To send the real book, copy its PDF to the server, set the BOOK_FILE "
            "environment variable to its path and restart the web process. Links "
            "already sent keep working: they name the signup, not the file.",
        ),
        (12, ""),
        (12, "Regenerate this placeholder with: manage.py book_placeholder_build"),
    ],
    [
        (20, "You are not alone"),
        (12, ""),
        (12, "Recovery is possible, and help is available every day of the year."),
        (12, ""),
        (12, "If you or someone you love is in danger, call or text 988, or call 911."),
    ],
]


def _wrapped(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont) -> list[str]:
    width = PAGE_SIZE[0] - 2 * MARGIN
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and draw.textlength(candidate, font=font) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    lines.append(line)
    return lines


def _page(blocks: list[tuple[int, str]]) -> Image.Image:
    image = Image.new("1", PAGE_SIZE, 1)
    draw = ImageDraw.Draw(image)
    y = MARGIN
    for points, text in blocks:
        pixels = points * DPI // 72
        font = ImageFont.load_default(size=pixels)
        if not isinstance(font, ImageFont.FreeTypeFont):
            raise CommandError("Pillow was built without FreeType: cannot draw the placeholder.")
        line_height = int(pixels * 1.35)
        for line in _wrapped(draw, text, font) if text else [""]:
            draw.text((MARGIN, y), line, font=font, fill=0)
            y += line_height
    return image


def book_placeholder_write(*, path: Path) -> int:
    """Draw the placeholder book and write it to ``path``; returns its size in bytes."""
    images = [_page(blocks) for blocks in PAGES]
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(
        path,
        format="PDF",
        save_all=True,
        append_images=images[1:],
        resolution=float(DPI),
        title=TITLE,
        subject="Placeholder: replace with BOOK_FILE",
        creator="asana_leads book_placeholder_build",
        producer="Pillow",
        creationDate=FIXED_DATE,
        modDate=FIXED_DATE,
    )
    return path.stat().st_size


class Command(BaseCommand):
    help = "Regenerate the placeholder book PDF (apps/books/assets/book.pdf)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", type=Path, default=DEFAULT_OUTPUT, help=f"default: {DEFAULT_OUTPUT}"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["output"]
        size = book_placeholder_write(path=path)
        self.stdout.write(f"{path}\t{size} bytes")
