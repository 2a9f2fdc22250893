"""Every page is dressed by the skin in use: it links the skin's stylesheets, lays its content in the skin's
container, and gives every form control and button the skin's classes.

With GUICHET_SKIN=dsfr, /verify and the court-order pages once showed bare browser controls (a textarea
and a button with no class, selects and date fields unstyled) while the rest of the site was styled.
"""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from guichet.public import skins
from tests.backoffice.helpers import staff, verified_login
from tests.evidence.pages import court_order_pages, evidence_pages
from tests.public.pages import public_pages

pytestmark = pytest.mark.django_db

# Controls the skin does not dress on purpose: hidden fields, and buttons drawn as links (the back office's
# one-click actions, `bo-link-button`).
UNDRESSED_INPUTS = {"hidden", "submit"}
LINK_BUTTONS = {"bo-link-button"}


class Page(HTMLParser):
    """The stylesheets, the classes around <main>'s content, and each control with its ancestors' classes."""

    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }

    def __init__(self) -> None:
        super().__init__()
        self.stylesheets: list[str] = []
        self.stack: list[tuple[str, set[str]]] = []
        self.main_classes: set[str] = set()
        self.controls: list[tuple[str, dict, list[set[str]]]] = []

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        classes = set(attributes.get("class", "").split())
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.stylesheets.append(attributes.get("href", ""))
        inside_main = any(name == "main" for name, _classes in self.stack)
        if inside_main and self.stack[-1][0] == "main":
            self.main_classes |= classes
        if inside_main and tag in {"input", "textarea", "select", "button"}:
            self.controls.append((tag, attributes, [c for _name, c in self.stack]))
        if tag not in self.VOID:
            self.stack.append((tag, classes))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return


def problems(html: str, skin: str) -> list[str]:
    page = Page()
    page.feed(html)
    classes = skins.CLASSES[skin]
    found = []
    for sheet in skins.STYLESHEETS[skin]:
        if not any(href.endswith(sheet) or sheet.rsplit(".", 1)[0] in href for href in page.stylesheets):
            found.append(f"stylesheet {sheet} not linked")
    if not set(classes["container"].split()) <= page.main_classes:
        found.append(f"content not in the skin's container ({classes['container']})")
    button = classes["button"].split()[0]
    for tag, attributes, ancestors in page.controls:
        own = set(attributes.get("class", "").split())
        kind = attributes.get("type", "text")
        name = f"<{tag} name={attributes.get('name', '')!r} type={kind!r}>"
        if tag == "button":
            if not own & ({button} | LINK_BUTTONS):
                found.append(f"{name} without the skin's button class")
        elif tag == "input" and kind in UNDRESSED_INPUTS:
            continue
        elif tag == "input" and kind in {"radio", "checkbox"}:
            group = set(classes["radio" if kind == "radio" else "checkbox"].split())
            if not any(group <= around for around in ancestors):
                found.append(f"{name} not in the skin's choice group")
        else:
            wanted = set(classes["select" if tag == "select" else "input"].split())
            if not wanted <= own:
                found.append(f"{name} without the skin's classes ({' '.join(sorted(wanted))})")
    return found


def check(client, path: str, skin: str) -> list[str]:
    response = client.get(path, follow=True)
    assert response.status_code == 200, path
    return [f"{path.split('?')[0]}: {problem}" for problem in problems(response.content.decode(), skin)]


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_every_public_page_is_dressed_by_the_skin(client, scenario, skin, language):
    pages = public_pages(scenario, language)
    evidence, token = evidence_pages(scenario.world)
    found = []
    for _name, path in [*pages, *evidence(language)]:
        found += check(client, path, skin)
    found += check(client, f"{reverse('evidence:verify')}?t={token}", skin)  # the answer and the form again
    assert not found, "\n".join(found)


def test_the_court_order_pages_are_dressed_by_the_skin(client, world, skin):
    verified_login(client, staff(world.prefecture, "manager", username="manager-93"))
    found = []
    for _name, path in court_order_pages(world)("fr"):
        found += check(client, path, skin)
    assert not found, "\n".join(found)


def test_a_bare_control_is_caught():
    # The check itself: the /verify form as it was (a textarea and a button without classes).
    html = (
        '<html><head><link rel="stylesheet" href="/static/guichet/neutral.css"></head><body><main>'
        '<div class="container"><form><textarea name="t"></textarea><button type="submit">Check</button>'
        "</form></div></main></body></html>"
    )
    assert problems(html, "neutral") == [
        "<textarea name='t' type='text'> without the skin's classes (input)",
        "<button name='' type='submit'> without the skin's button class",
    ]
