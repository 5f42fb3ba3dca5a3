"""The attribution report as a CSV file and an inline SVG bar chart (no script, no CDN)."""

from __future__ import annotations

import csv
import io

from django.utils.html import escape

from apps.marketing.selectors import AttributionReport, AttributionRow
from apps.marketing.writers import cell_neutralize

BAR_HEIGHT = 18
LABEL_WIDTH = 300
CHART_WIDTH = 420
MAX_BARS = 20
MAX_LABEL = 45


def attribution_csv(report: AttributionReport) -> str:
    """Both tables in one CSV (a ``group`` column says which), formula-safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["group", "label", "submissions", "verified", "admitted"])
    for group, rows in (("campaign", report.by_campaign), ("landing_page", report.by_landing_page)):
        for row in rows:
            writer.writerow(
                [group, cell_neutralize(row.label), row.submissions, row.verified, row.admitted]
            )
    return out.getvalue()


def attribution_svg(rows: list[AttributionRow], title: str) -> str:
    """Horizontal bars: submissions, with the verified and admitted share drawn inside."""
    shown = rows[:MAX_BARS]
    height = BAR_HEIGHT * 1.5 * len(shown) + 30
    peak = max((row.submissions for row in shown), default=1) or 1
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" role="img"'
        f' width="{LABEL_WIDTH + CHART_WIDTH + 60}" height="{height:.0f}"'
        ' font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
    ]
    for index, row in enumerate(shown):
        y = 20 + index * BAR_HEIGHT * 1.5
        scale = CHART_WIDTH / peak
        label = row.label if len(row.label) <= MAX_LABEL else row.label[: MAX_LABEL - 1] + "…"
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 13:.0f}" text-anchor="end">{escape(label)}</text>'
        )
        for value, colour in (
            (row.submissions, "#9ab"),
            (row.verified + row.admitted, "#47a"),
            (row.admitted, "#163"),
        ):
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y:.0f}" width="{value * scale:.1f}"'
                f' height="{BAR_HEIGHT}" fill="{colour}"/>'
            )
        parts.append(
            f'<text x="{LABEL_WIDTH + row.submissions * scale + 4:.1f}" y="{y + 13:.0f}">'
            f"{row.submissions}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
