"""Bar charts drawn on the server as SVG: no JavaScript, no image request, readable on a cheap phone.

A chart is decoration for the eye: the same numbers are in the table next to it, which is what screen
readers are pointed to (the SVG is an image whose text alternative names the table).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 640, 160
MARGIN = 2

# The scale and the dates are HTML around the drawing, not SVG text: written in the page's font and size,
# they stay readable when a phone draws the chart at half its width, and grow with the reader's zoom.
# They repeat what the table says, so assistive technologies skip them (the image names the table).
TEMPLATE = (
    '<div class="chart-frame" dir="ltr">'
    '<span class="chart-label chart-scale" aria-hidden="true">{}</span>'
    '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title {}-desc" '
    'xmlns="http://www.w3.org/2000/svg"><title id="{}-title">{}</title><desc id="{}-desc">{}</desc>'
    '<line x1="0" y1="{}" x2="{}" y2="{}" class="chart-grid"/>'
    '<line x1="0" y1="{}" x2="{}" y2="{}" class="chart-axis"/>'
    "{}</svg>"
    '<div class="chart-dates" aria-hidden="true">{}</div>'
    "</div>"
)


@dataclass(frozen=True)
class Bar:
    label: str  # shown under the first and last bars
    value: float | None  # None: no figure that week (no bar)


def _format(value: float) -> str:
    return f"{value:g}" if value < 1000 else f"{round(value):,}".replace(",", "\u202f")


def bar_chart(bars: list[Bar], *, title: str, description: str, chart_id: str) -> SafeString:
    """An SVG bar chart of `bars`, left to right in time order, its maximum written above a dashed line at
    the top, the first and last bars' labels under it."""
    values = [bar.value for bar in bars if bar.value is not None]
    top = max(values, default=0) or 1
    inner_height = HEIGHT - 2 * MARGIN
    step = WIDTH / max(1, len(bars))
    rects = []
    for index, bar in enumerate(bars):
        if bar.value is None:
            continue
        height = inner_height * bar.value / top
        rects.append(
            (
                f"{index * step + step * 0.1:.1f}",
                f"{MARGIN + inner_height - height:.1f}",
                f"{step * 0.8:.1f}",
                f"{height:.1f}",
                f"{bar.label}: {_format(bar.value)}",
            )
        )
    baseline = MARGIN + inner_height
    dates = [bars[0].label, bars[-1].label] if bars else []
    return format_html(
        TEMPLATE,
        _format(top),
        WIDTH,
        HEIGHT,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        description,
        MARGIN,
        WIDTH,
        MARGIN,
        baseline,
        WIDTH,
        baseline,
        format_html_join(
            "",
            '<rect x="{}" y="{}" width="{}" height="{}" class="chart-bar"><title>{}</title></rect>',
            rects,
        ),
        format_html_join("", '<span class="chart-label">{}</span>', ((label,) for label in dates)),
    )
