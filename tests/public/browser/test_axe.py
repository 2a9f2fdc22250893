"""axe-core finds no accessibility violation on any public page, in French and Arabic, in both skins.

The same visit checks what the browser fetched: no font outside the skin's declared set (the page-weight test
counts those), nothing from another site.

axe takes about a second a page; pages are checked a few at a time in separate tabs (one renderer process
each), so the whole run stays short on two cores.
"""

import json
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe

from guichet.public import skins
from tests.public.pages import public_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# WCAG 2.1 A and AA (what RGAA 4.1 maps to), plus axe's best practices.
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
}
TABS = 3
START = "() => { window.__axe = undefined; setTimeout(() => axe.run(document, %s).then(r => { window.__axe = r.violations; }), 0); }"


def _describe(label: str, violations: list[dict]) -> list[str]:
    problems = []
    for violation in violations:
        targets = [" ".join(node["target"]) for node in violation["nodes"]][:3]
        problems.append(f"{label}: {violation['id']} ({violation['impact']}) {violation['help']} at {targets}")
    return problems


def _visits(scenario) -> list[tuple[str, str, str]]:
    visits = []
    for language in ("fr", "ar"):
        pages = public_pages(scenario, language)
        visits += [(language, name, path) for name, path in pages]
        visits.append((language, "file-errors", dict(pages)["file"]))
    return visits


@pytest.mark.parametrize("skin_name", ["neutral", "dsfr"])
def test_no_violation_on_any_public_page(live_server, scenario, open_page, settings, skin_name):
    settings.GUICHET_SKIN = skin_name
    script = Axe().axe_script
    start = START % json.dumps(AXE_OPTIONS)
    tabs = [open_page() for _ in range(TABS)]
    problems: list[str] = []
    fonts: set[str] = set()
    foreign: set[str] = set()
    host = urlsplit(live_server.url).netloc
    visits = _visits(scenario)
    for first in range(0, len(visits), TABS):
        batch = list(zip(tabs, visits[first : first + TABS], strict=False))
        for page, (_language, name, path) in batch:
            page.goto(live_server.url + path)
            if name == "file-errors":
                page.locator("form[method=post] button[type=submit]").click()
                page.wait_for_load_state()
                assert page.locator("[data-error-summary]").count() == 1
            page.evaluate(script)
            page.evaluate(start)
        for page, (language, name, _path) in batch:
            # Polled by timer: background tabs get no animation frames.
            page.wait_for_function("() => window.__axe !== undefined", polling=100, timeout=30_000)
            problems += _describe(f"{name} [{language}]", page.evaluate("window.__axe"))
            for entry in page.evaluate("performance.getEntriesByType('resource').map(e => e.name)"):
                parts = urlsplit(entry)
                if parts.netloc != host:
                    foreign.add(entry)
                elif parts.path.endswith((".woff2", ".woff", ".ttf", ".otf")):
                    fonts.add(parts.path.removeprefix(settings.STATIC_URL))
    assert not problems, "\n".join(problems)
    assert not foreign, f"fetched from other sites: {sorted(foreign)}"
    assert fonts <= set(skins.FONT_FILES[skin_name]), f"fonts not counted by the page-weight test: {fonts}"
