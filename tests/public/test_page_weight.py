"""Each public page weighs at most 150 KB compressed on first load, CSS, scripts, icons and fonts included.

Counted with an empty cache: the gzip size of the HTML, of every stylesheet and script it links, of the icon,
of every image a linked stylesheet refers to (all of them, used or not: an upper bound), and of the font
files the skin uses (skins.FONT_FILES; the browser test checks that no other font is fetched).
"""

import gzip
import posixpath
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

from guichet.public import skins
from tests.public.pages import public_pages

pytestmark = pytest.mark.django_db

BUDGET = 150 * 1024
URL = re.compile(r"url\((['\"]?)([^'\")]+)\1\)")
FONT_FACE = re.compile(r"@font-face\s*{[^}]*}")


def gzipped(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def static_file(path: str) -> bytes:
    found = finders.find(path)
    assert found, f"missing static file {path}"
    return Path(found).read_bytes()


def assets_of(html: str) -> list[str]:
    prefix = settings.STATIC_URL
    links = re.findall(r'<link rel="(?:stylesheet|icon)" href="([^"]+)"', html)
    scripts = re.findall(r'<script src="([^"]+)"', html)
    return [url.removeprefix(prefix) for url in links + scripts]


def css_images(path: str, css: str) -> set[str]:
    """Files a stylesheet refers to outside @font-face (fonts are counted from the skin's list)."""
    found = set()
    for _quote, url in URL.findall(FONT_FACE.sub("", css)):
        if url.startswith(("data:", "#", "http")):
            continue
        found.add(
            posixpath.normpath(posixpath.join(posixpath.dirname(path), url.split("?")[0].split("#")[0]))
        )
    return found


def first_load(client, path: str) -> tuple[int, dict[str, int]]:
    response = client.get(path)
    assert response.status_code == 200, path
    html = response.content.decode()
    sizes = {"html": gzipped(response.content)}
    images: set[str] = set()
    for asset in assets_of(html):
        data = static_file(asset)
        sizes[asset] = gzipped(data)
        if asset.endswith(".css"):
            images |= css_images(asset, data.decode())
    for image in images:
        sizes[image] = gzipped(static_file(image))
    for font in skins.FONT_FILES[skins.current()]:
        sizes[font] = gzipped(static_file(font))
    return sum(sizes.values()), sizes


@pytest.mark.parametrize("skin_name", ["neutral", "dsfr"])
def test_every_public_page_is_under_150_kb_on_first_load(client, scenario, settings, skin_name):
    settings.GUICHET_SKIN = skin_name
    heaviest = (0, "", {})
    for language in ("fr", "ar"):
        for name, path in public_pages(scenario, language):
            total, sizes = first_load(client, path)
            assert total <= BUDGET, f"{name} [{language}] weighs {total / 1024:.1f} KB: {sizes}"
            heaviest = max(heaviest, (total, f"{name} [{language}]", sizes), key=lambda item: item[0])
    print(f"{skin_name}: heaviest page {heaviest[1]} at {heaviest[0] / 1024:.1f} KB")


def test_the_neutral_skin_is_small_and_uses_no_font_file(client, world, settings):
    settings.GUICHET_SKIN = "neutral"
    total, sizes = first_load(client, "/fr/")
    assert skins.FONT_FILES["neutral"] == []
    assert total <= 20 * 1024, sizes


def test_neutral_stylesheet_uses_logical_properties_only():
    """Arabic mirrors by itself: no left/right in our own stylesheet."""
    css = re.sub(r"/\*.*?\*/", "", static_file("guichet/neutral.css").decode(), flags=re.S)
    physical = re.findall(
        r"(?<![\w-])(?:margin|padding|border)-(?:left|right)\b|(?<![\w-])(?:left|right)\s*:"
        r"|float\s*:\s*(?:left|right)|text-align\s*:\s*(?:left|right)",
        css,
    )
    assert physical == []
