"""axe-core finds no accessibility violation on any public page, in French and Arabic, in both skins.

The same visit checks what the browser fetched: no font outside the skin's declared set (the page-weight test
counts those), nothing from another site.

Speed: axe costs about a second and a half per freshly loaded document, mostly compiling its 500 KB of
JavaScript again. So each (skin, language) loads one real page, injects axe once, and then brings every
other page into that same document: the page's HTML is fetched from the live server, parsed by the browser's
own parser, and its body, title and <html> attributes (lang, dir) put in place. Every page links the same
stylesheets (checked), which stay loaded, so nothing renders differently. The form with errors is a real
submission. This keeps the whole run to a few seconds per language.
"""

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

# Put another page of the site in place of the current one (same document, so axe stays loaded).
SWAP = """async (url) => {
  const response = await fetch(url, {credentials: "same-origin"});
  if (!response.ok) { throw new Error(url + " answered " + response.status); }
  const next = new DOMParser().parseFromString(await response.text(), "text/html");
  const sheets = (doc) => [...doc.querySelectorAll('head link[rel="stylesheet"]')]
    .map((link) => link.href).join(" ");
  if (sheets(next) !== sheets(document)) { throw new Error(url + " links other stylesheets"); }
  const root = document.documentElement;
  for (const attribute of [...root.attributes]) { root.removeAttribute(attribute.name); }
  for (const attribute of next.documentElement.attributes) {
    root.setAttribute(attribute.name, attribute.value);
  }
  document.title = next.title;
  document.body.replaceWith(document.adoptNode(next.body));
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  return document.title;
}"""


def _describe(label: str, violations: list[dict]) -> list[str]:
    problems = []
    for violation in violations:
        targets = [" ".join(node["target"]) for node in violation["nodes"]][:3]
        problems.append(
            f"{label}: {violation['id']} ({violation['impact']}) {violation['help']} at {targets}"
        )
    return problems


def _run_axe(page, label: str) -> list[str]:
    violations = page.evaluate("(options) => axe.run(document, options).then(r => r.violations)", AXE_OPTIONS)
    return _describe(label, violations)


@pytest.mark.parametrize("skin_name", ["neutral", "dsfr"])
def test_no_violation_on_any_public_page(live_server, scenario, open_page, settings, skin_name):
    settings.GUICHET_SKIN = skin_name
    script = Axe().axe_script
    problems: list[str] = []
    resources: set[str] = set()
    for language in ("fr", "ar"):
        pages = public_pages(scenario, language)
        page = open_page()
        # The form refused: a real submission, so the page is what the server answers to it.
        page.goto(live_server.url + dict(pages)["file"])
        page.locator("form[method=post] button[type=submit]").click()
        page.wait_for_load_state()
        assert page.locator("[data-error-summary]").count() == 1
        page.evaluate(script)
        problems += _run_axe(page, f"file-errors [{language}]")
        for name, path in pages:
            page.evaluate(SWAP, live_server.url + path)
            problems += _run_axe(page, f"{name} [{language}]")
        resources.update(page.evaluate("performance.getEntriesByType('resource').map(e => e.name)"))
    assert not problems, "\n".join(problems)
    host = urlsplit(live_server.url).netloc
    foreign = sorted(url for url in resources if urlsplit(url).netloc != host)
    assert not foreign, f"fetched from other sites: {foreign}"
    fonts = {
        urlsplit(url).path.removeprefix(settings.STATIC_URL)
        for url in resources
        if urlsplit(url).path.endswith((".woff2", ".woff", ".ttf", ".otf"))
    }
    assert fonts <= set(skins.FONT_FILES[skin_name]), f"fonts not counted by the page-weight test: {fonts}"
