"""Charts drawn on the server as inline SVG: no JavaScript, no CDN, nothing to load."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BAR_HEIGHT = 20
GAP = 6
LABEL_WIDTH = 190
BAR_WIDTH = 360
COLOURS = ("#2f6f9f", "#5b9b4a", "#c98a2b", "#a64b4b", "#6b5b9a", "#3d8c8c", "#8c6d3d")


def _nothing(title: str) -> SafeString:
    return mark_safe(f'<p class="quiet">{escape(title)}: nothing in this period.</p>')  # noqa: S308


def _svg_open(*, title: str, width: int, height: int) -> str:
    """The chart's opening tags: scales to its container, named for screen readers."""
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="100%" '
        f'style="max-width:{width}px" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    )


def bar_chart(
    rows: Sequence[tuple[str, float]],
    *,
    title: str,
    value_format: str = "{:.0f}",
    highlight: Sequence[bool] | None = None,
) -> SafeString:
    """Horizontal bars, one per (label, value), scaled to the largest value."""
    if not rows:
        return _nothing(title)
    top = max(value for _, value in rows) or 1
    height = len(rows) * (BAR_HEIGHT + GAP) + GAP
    width = LABEL_WIDTH + BAR_WIDTH + 70
    parts = [_svg_open(title=title, width=width, height=height)]
    for position, (label, value) in enumerate(rows):
        y = GAP + position * (BAR_HEIGHT + GAP)
        length = max(1, round(BAR_WIDTH * value / top)) if value else 0
        colour = COLOURS[0] if not highlight or highlight[position] else "#9aa5ad"
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 14}" text-anchor="end" font-size="12">'
            f"{escape(label[:28])}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" '
            f'fill="{colour}" rx="2"></rect>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 14}" font-size="12">'
            f"{escape(value_format.format(value))}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 every label and value above is escaped


def stacked_bars(
    rows: Sequence[tuple[str, dict[str, int]]], *, series: Sequence[tuple[str, str]], title: str
) -> SafeString:
    """One horizontal bar per row, split by series (value, label), with a legend."""
    if not rows:
        return _nothing(title)
    top = max(sum(values.values()) for _, values in rows) or 1
    # The legend names only the series this period has.
    present = {value for _, values in rows for value, count in values.items() if count}
    legend_rows: list[list[tuple[int, str]]] = [[]]
    x = 0
    for position, (value, label) in enumerate(series):
        if value not in present:
            continue
        span = 24 + 7 * len(label)
        if x + span > LABEL_WIDTH + BAR_WIDTH + 70 and legend_rows[-1]:
            legend_rows.append([])
            x = 0
        legend_rows[-1].append((position, label))
        x += span
    legend_height = 18 * len(legend_rows) + 4
    height = legend_height + len(rows) * (BAR_HEIGHT + GAP) + GAP
    width = LABEL_WIDTH + BAR_WIDTH + 70
    parts = [_svg_open(title=title, width=width, height=height)]
    for line, entries in enumerate(legend_rows):
        x = 0
        for position, label in entries:
            colour = COLOURS[position % len(COLOURS)]
            y = 4 + 18 * line
            parts.append(
                f'<rect x="{x}" y="{y}" width="10" height="10" fill="{colour}"></rect>'
                f'<text x="{x + 14}" y="{y + 9}" font-size="11">{escape(label)}</text>'
            )
            x += 24 + 7 * len(label)
    for index, (label, values) in enumerate(rows):
        y = legend_height + GAP + index * (BAR_HEIGHT + GAP)
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 14}" text-anchor="end" font-size="12">'
            f"{escape(label[:28])}</text>"
        )
        offset = LABEL_WIDTH
        for position, (value, series_label) in enumerate(series):
            count = values.get(value, 0)
            if not count:
                continue
            length = max(1, round(BAR_WIDTH * count / top))
            colour = COLOURS[position % len(COLOURS)]
            parts.append(
                f'<rect x="{offset}" y="{y}" width="{length}" height="{BAR_HEIGHT}" '
                f'fill="{colour}"><title>{escape(series_label)}: {count}</title></rect>'
            )
            offset += length
        parts.append(
            f'<text x="{offset + 6}" y="{y + 14}" font-size="12">{sum(values.values())}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 every label and value above is escaped
