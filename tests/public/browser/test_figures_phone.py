"""The figures page read on a small phone, in French and Arabic, in both skins: the charts' scale and dates
are written as large as the page's small print, within the chart, and the captions of the tables are where
the eye is, not off to the side of a table that scrolls."""

import pytest

from guichet.catalog.demo import build_demo_prefecture
from guichet.waitlist.demo import file_synthetic_requests
from tests.browser import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Text smaller than this (CSS pixels) is hard to read on a phone; a line of text is drawn about 1.2 times
# as high as its font size.
SMALLEST_TEXT_PX = 12
SMALLEST_LINE_PX = SMALLEST_TEXT_PX * 1.15

# Each chart's labels (its scale, its first and last weeks) as drawn: text, height, within the figure.
CHART_LABELS = """() => [...document.querySelectorAll(".chart-figure")].map((figure) => {
  const frame = figure.getBoundingClientRect();
  return [...figure.querySelectorAll(".chart-label")].map((label) => {
    const box = label.getBoundingClientRect();
    return {text: label.textContent, height: box.height,
            inside: box.left >= frame.left && box.right <= frame.right && box.width > 0};
  });
})"""

# Where each table's caption text is drawn, against the part of its scrolling region that shows.
CAPTIONS = """() => [...document.querySelectorAll(".table-wrap caption")].map((caption) => {
  const range = document.createRange();
  range.selectNodeContents(caption);
  const text = range.getBoundingClientRect();
  const shown = caption.closest(".table-wrap").getBoundingClientRect();
  return {text: caption.textContent, inside: text.left >= shown.left - 1 && text.right <= shown.right + 1};
})"""


@pytest.fixture
def queue():
    """The demo's catalogue and 1,200 people filed over six weeks (a scale in thousands)."""
    prefecture = build_demo_prefecture()
    file_synthetic_requests(prefecture, 1200, 1)
    return prefecture


@pytest.mark.parametrize("skin_name", ["neutral", "dsfr"])
def test_the_charts_and_tables_of_the_figures_read_on_a_phone(
    live_server, queue, open_page, settings, skin_name
):
    settings.GUICHET_SKIN = skin_name
    page = open_page(width=PHONE["width"])
    for language in ("fr", "ar"):
        page.goto(f"{live_server.url}/{language}/figures/{queue.code}/")
        charts = page.evaluate(CHART_LABELS)
        assert len(charts) == 4 and all(len(labels) >= 3 for labels in charts), charts
        assert "1\u202f200" in {label["text"] for label in charts[2]}  # the waiting chart's scale
        for label in (label for labels in charts for label in labels):
            assert label["height"] >= SMALLEST_LINE_PX and label["inside"], (language, skin_name, label)
        captions = page.evaluate(CAPTIONS)
        assert len(captions) == 2
        for caption in captions:
            assert caption["inside"], (language, caption)
