"""Bar charts drawn on the server as SVG: no JavaScript, no image request, readable on a cheap phone.

A chart is decoration for the eye: the same numbers are in the table next to it, which is what screen
readers are pointed to (the SVG is an image whose text alternative names the table).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 640, 200
MARGIN_START, MARGIN_END, MARGIN_TOP, MARGIN_BOTTOM = 44, 8, 12, 24


@dataclass(frozen=True)
class Bar:
    label: str  # shown under the first and last bars
    value: float | None  # None: no figure that week (no bar)


def _format(value: float) -> str:
    return f"{value:g}" if value < 1000 else f"{round(value):,}".replace(",", "\u202f")


def bar_chart(bars: list[Bar], *, title: str, description: str, chart_id: str) -> SafeString:
    """An SVG bar chart of `bars`, left to right in time order, with its maximum marked on the axis."""
    values = [bar.value for bar in bars if bar.value is not None]
    top = max(values, default=0) or 1
    inner_width = WIDTH - MARGIN_START - MARGIN_END
    inner_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    step = inner_width / max(1, len(bars))
    rects = []
    for index, bar in enumerate(bars):
        if bar.value is None:
            continue
        height = inner_height * bar.value / top
        rects.append(
            (
                f"{MARGIN_START + index * step + step * 0.1:.1f}",
                f"{MARGIN_TOP + inner_height - height:.1f}",
                f"{step * 0.8:.1f}",
                f"{height:.1f}",
                f"{bar.label}: {_format(bar.value)}",
            )
        )
    baseline = MARGIN_TOP + inner_height
    labels = []
    if bars:
        labels = [(MARGIN_START, "start", bars[0].label), (WIDTH - MARGIN_END, "end", bars[-1].label)]
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title {}-desc" dir="ltr" '
        'xmlns="http://www.w3.org/2000/svg"><title id="{}-title">{}</title><desc id="{}-desc">{}</desc>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" class="chart-axis"/>'
        '<text x="{}" y="{}" text-anchor="end" class="chart-label">{}</text>'
        '<text x="{}" y="{}" text-anchor="end" class="chart-label">0</text>'
        "{}{}</svg>",
        WIDTH,
        HEIGHT,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        description,
        MARGIN_START,
        baseline,
        WIDTH - MARGIN_END,
        baseline,
        MARGIN_START - 4,
        MARGIN_TOP + 10,
        _format(top),
        MARGIN_START - 4,
        baseline,
        format_html_join(
            "",
            '<rect x="{}" y="{}" width="{}" height="{}" class="chart-bar"><title>{}</title></rect>',
            rects,
        ),
        format_html_join(
            "",
            '<text x="{}" y="' + str(HEIGHT - 6) + '" text-anchor="{}" class="chart-label">{}</text>',
            labels,
        ),
    )
