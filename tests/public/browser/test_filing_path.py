"""The whole filing path with the keyboard alone, in French and Arabic, with and without JavaScript.

Home → procedures → procedure → the form (sent empty first: the error summary lists every problem) → the
receipt → the request's page by its private link. Only the keyboard moves and acts: Tab, Enter, Space,
arrows and typing; the test reads the page but never clicks.
"""

import re

import pytest

from guichet.waitlist.models import AppointmentRequest, RequestStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_TABS = 400


def focused(page) -> dict:
    return page.evaluate(
        """() => { const e = document.activeElement; return {
            tag: e.tagName.toLowerCase(), name: e.getAttribute("name") || "",
            href: e.getAttribute("href") || "",
            type: e.getAttribute("type") || "", summary: e.hasAttribute("data-error-summary"),
            value: e.value === undefined ? "" : e.value, text: (e.textContent || "").trim() }; }"""
    )


def tab_to(page, matches) -> dict:
    """Press Tab until the focused element matches; fail if it is never reached."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        element = focused(page)
        if matches(element):
            return element
    raise AssertionError("could not reach the element with the keyboard")


def follow(page, href_end: str) -> None:
    tab_to(page, lambda e: e["tag"] == "a" and e["href"].endswith(href_end))
    with page.expect_navigation():
        page.keyboard.press("Enter")


def submit(page) -> None:
    tab_to(page, lambda e: e["tag"] == "button" and e["type"] == "submit")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def type_into(page, name: str, text: str) -> None:
    tab_to(page, lambda e: e["name"] == name)
    page.keyboard.type(text)


def date_keys(page, *, day: str, month: str, year: str) -> str:
    """What to type in a date input: its fields come in the order of the browser's own locale (the one
    Intl uses when the context sets none)."""
    order = page.evaluate(
        "() => new Intl.DateTimeFormat().formatToParts(new Date(2000, 10, 22)).map(p => p.type)"
        ".filter(t => ['day', 'month', 'year'].includes(t))"
    )
    parts = {"day": day, "month": month, "year": year}
    return "".join(parts[name] for name in order)


def choose(page, name: str, value: str) -> None:
    """Pick an option of a closed <select> with the arrow keys."""
    tab_to(page, lambda e: e["tag"] == "select" and e["name"] == name)
    for _ in range(400):
        if focused(page)["value"] == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"no option {value} in {name}")


@pytest.mark.parametrize("language", ["fr", "ar"])
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_file_a_request_with_the_keyboard_alone(live_server, world, open_page, language, javascript):
    procedure = world.procedures["first"]
    page = open_page(javascript=javascript)
    page.goto(f"{live_server.url}/{language}/")
    assert page.locator("html").get_attribute("lang") == language
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")

    follow(page, f"/{language}/procedures/")
    follow(page, f"/{language}/procedures/{world.prefecture.code}/{procedure.code}/")
    follow(page, f"/{language}/procedures/{world.prefecture.code}/{procedure.code}/request/")

    # Sent empty: nothing is filed, and the summary at the top links to each field in error.
    submit(page)
    assert AppointmentRequest.objects.count() == 0
    summary = page.locator("[data-error-summary]")
    assert summary.count() == 1
    links = summary.locator("a")
    assert links.count() >= 2
    assert "#id_family_names" in [links.nth(i).get_attribute("href") for i in range(links.count())]
    family = page.locator("#id_family_names")
    assert family.get_attribute("aria-invalid") == "true"
    assert page.locator("#" + family.get_attribute("aria-describedby").split()[-1]).inner_text().strip()
    if javascript:
        assert focused(page)["summary"], "the error summary takes the focus"

    page.keyboard.press("Home")
    type_into(page, "family_names", "Benali")
    type_into(page, "given_names", "Yasmina" if language == "fr" else "ياسمينة")
    tab_to(page, lambda e: e["name"] == "birth_date")
    page.keyboard.type(date_keys(page, day="04", month="05", year="1990"))
    choose(page, "nationality", "DZ")
    type_into(page, "email", "yasmina@example.org")
    # The first acceptable site, ticked with the space bar.
    tab_to(page, lambda e: e["name"] == "sites")
    page.keyboard.press("Space")
    submit(page)

    filed = AppointmentRequest.objects.get()
    assert filed.language == language
    assert filed.sites.count() == 1
    assert filed.birth_date.isoformat() == "1990-05-04"
    assert filed.reference in page.locator("#reference").inner_text()
    secret = page.locator("#secret-link").inner_text().strip()
    assert re.search(rf"/{language}/r/{re.escape(filed.reference)}/[^/]+/$", secret)

    follow(page, f"/{language}/r/{filed.reference}/{secret.rstrip('/').rsplit('/', 1)[1]}/")
    assert filed.reference in page.locator("h1").inner_text()
    assert filed.status == RequestStatus.WAITING
    assert page.locator("#queue-title").count() == 1


def test_accept_an_offer_and_get_the_convocation_with_the_keyboard_alone(live_server, scenario, open_page):
    """Without JavaScript, in Arabic: the offer is accepted from its page and the appointment shows."""
    offered = scenario.offered
    page = open_page(javascript=False)
    page.goto(live_server.url + offered.url(language="ar"))
    tab_to(
        page,
        lambda e: (
            e["tag"] == "button"
            and "/accept/"
            in page.evaluate(
                "() => document.activeElement.form ? document.activeElement.form.getAttribute('action') : ''"
            )
        ),
    )
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert offered.refresh().status == RequestStatus.SCHEDULED
    assert page.url.endswith(offered.url("appointment", "ar"))
    assert page.locator(f'a[href="{offered.url("convocation_pdf", "ar")}"]').count() == 1
    assert page.locator(f'a[href="{offered.url("appointment_ics", "ar")}"]').count() == 1
