"""Issue #13's "done when", in a browser, on the demo (`manage.py demo`: its catalogue, slots, staff accounts,
2000 people in the queue and the offers made to them).

1. The demo's manager logs in with the password and the second factor (the code computed from the key the
   demo enrolled, as an authenticator app does), reads the capacity projection, changes an opening rule in
   the catalogue's week grid (the preview lists the slots made and the projected waits before and after),
   saves it, adds a closure of a site for a day (the preview counts the free slots removed and lists the
   people whose appointment or offer it affects), saves it (the page of the people affected follows), and
   the capacity page's projection is the one the previews announced.
2. The demo's prefecture administrator invites a new agent; the agent follows the one-time link of the
   email, chooses a password, enrols the second factor, and logs in again with password and code.
3. The public figures page, in French and in Arabic, draws its charts from the weekly table and offers
   the CSV, whose header and rows are the table's.

One browser context per person; axe (WCAG 2.1 AA) on every page met; every page screenshotted into
test-artifacts/screenshots/done-when-13/.
"""

import csv
import datetime
import io
import re
import time

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from django.core.management import call_command
from django.utils import formats, timezone, translation

from guichet.accounts.demo import demo_password, demo_totp_uri
from guichet.capacity.models import Hold, Slot
from guichet.catalog.demo import FIRST, STATUS
from guichet.catalog.models import Closure, OpeningRule, Prefecture, Site
from guichet.public import series
from tests import browser
from tests.public.browser.test_axe import AXE_OPTIONS, _describe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = browser.ARTIFACTS / "screenshots" / "done-when-13"
DESKTOP = {"width": 1280, "height": 900}
AGENT_PASSWORD = "une phrase de passe assez longue"  # noqa: S105


@pytest.fixture
def demo(live_server, settings):
    settings.SITE_URL = live_server.url  # the invitation's link
    call_command("demo", stdout=io.StringIO())
    return Prefecture.objects.get(code="93")


def look(page, label: str) -> list[str]:
    """Screenshot the page (to look at) and return axe's violations on it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.evaluate(Axe().axe_script)
    return _describe(label, page.evaluate("(o) => axe.run(document, o).then(r => r.violations)", AXE_OPTIONS))


def submit(page, selector: str = "main form button[type=submit]") -> None:
    with page.expect_navigation():
        page.locator(selector).first.click()


def log_in(page, base: str, username: str, password: str, code: str, problems: list[str] | None = None):
    page.goto(f"{base}/fr/staff/login/")
    if problems is not None:
        problems += look(page, "login")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    submit(page)
    assert page.url.endswith("/fr/staff/login/verify/")
    if problems is not None:
        problems += look(page, "login second factor")
    page.fill("#id_code", code)
    submit(page)
    assert page.url == f"{base}/fr/staff/", page.url


def demo_code(username: str, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows for the key the demo enrolled (its otpauth:// address)."""
    return pyotp.parse_uri(demo_totp_uri(username)).at(time.time() + 30 * steps_ahead)


def days(text: str) -> int | None:
    """A projected wait as the page writes it: "48", "62 (au-delà de la cible)", or "sans fin" (None)."""
    found = re.match(r"\d+", text.strip())
    return int(found.group(0)) if found else None


# The rows of a table: the texts of each row's cells, header cell first.
ROWS = "(rows) => rows.map((tr) => [...tr.children].map((cell) => cell.innerText))"


def rows(page, selector: str) -> list[list[str]]:
    return page.locator(selector).evaluate_all(ROWS)


def capacity_worst(page) -> dict[str, int | None]:
    """The capacity page: procedure → its longest projected wait over the weeks shown."""
    worst = {}
    for name, *cells in rows(page, "main table tbody tr:not(.bo-changed)"):
        weeks = [days(cell) for cell in cells[7:]]  # after target, queue, booked, received and three rates
        assert len(weeks) == 12, cells
        worst[name] = None if None in weeks else max(weeks)
    return worst


def preview_waits(page) -> dict[str, tuple[int | None, int | None]]:
    """The preview's table: procedure → (longest wait before, after)."""
    shown = rows(page, ".bo-effect > table tbody tr")
    return {name: (days(before), days(after)) for name, _target, before, after in shown}


def heading_count(page, pattern: str) -> int:
    """The number in the preview's heading matching `pattern` (e.g. "créneaux créés"), 0 without one."""
    found = re.search(r"(\d+) " + pattern, page.inner_text(".bo-effect"))
    return int(found.group(1)) if found else 0


def a_tuesday_partly_booked(site: Site) -> datetime.date:
    """The first Tuesday at least five days ahead on which the site has both free and held slots."""
    day = timezone.localdate() + datetime.timedelta(days=5)
    day += datetime.timedelta(days=(1 - day.weekday()) % 7)
    for _week in range(8):  # the slot horizon
        slots = day_slots(site, day)
        if 0 < slots.filter(hold__isnull=False).count() < slots.count():
            return day
        day += datetime.timedelta(weeks=1)
    raise AssertionError(f"no Tuesday of {site} has both free and held slots")


def day_slots(site: Site, day: datetime.date):
    start = datetime.datetime.combine(day, datetime.time(0), tzinfo=site.tzinfo)
    return Slot.objects.filter(
        counter__site=site, starts_at__gte=start, starts_at__lt=start + datetime.timedelta(days=1)
    )


def manager_edits_the_catalogue(base: str, page, demo: Prefecture, problems: list[str]) -> None:
    log_in(page, base, "manager-93", demo_password("manager-93"), demo_code("manager-93"), problems)

    page.goto(f"{base}/fr/staff/93/capacity/")
    problems += look(page, "capacity before")
    before = capacity_worst(page)
    assert len(before) == demo.procedures.filter(is_active=True).count()

    # The week grid: Guichet 1, Monday afternoon, 13:30–16:30, kept open until 18:00.
    page.goto(f"{base}/fr/staff/93/catalogue/")
    problems += look(page, "catalogue")
    row = page.locator("table.bo-week tbody tr", has=page.locator("th", has_text="— Guichet 1"))
    monday = row.locator("td").nth(0)
    with page.expect_navigation():
        monday.locator("a", has_text="13:30–16:30").click()
    rule = OpeningRule.objects.get(counter__name="Guichet 1", weekday=0, start_time="13:30")
    assert page.url.endswith(f"/catalogue/rule/{rule.pk}/")
    slots_before = rule.slots.count()
    page.fill("#id_end_time", "18:00")
    submit(page, "button[name=preview]")
    problems += look(page, "rule preview")
    made = heading_count(page, "créneaux créés")
    lines = page.locator(".bo-effect ul.bo-slots li").all_inner_texts()
    assert made == len(lines) > 0, (made, lines)  # the horizon's Mondays, three slots each (fewer than 40)
    monday_evening = r"— Guichet 1, lun .* (16:30–17:00|17:00–17:30|17:30–18:00)$"
    assert all(re.search(monday_evening, line) for line in lines), lines
    assert heading_count(page, "créneaux libres supprimés") == 0
    waits = preview_waits(page)
    assert {name: was for name, (was, _now) in waits.items()} == before
    served = set(rule.procedures.values_list("name", flat=True))
    assert served == set(demo.procedures.filter(code__in=[FIRST, STATUS]).values_list("name", flat=True))
    shorter = {name for name, (was, now) in waits.items() if now != was}
    assert shorter and shorter <= served, waits  # longer hours shorten the waits of what it serves
    assert all(waits[name][1] < waits[name][0] for name in shorter)
    assert rule.slots.count() == slots_before  # a preview keeps nothing
    submit(page, "button[name=save]")
    assert page.url.endswith("/fr/staff/93/catalogue/")
    assert rule.slots.count() == slots_before + made
    assert "13:30–18:00" in monday.inner_text()

    page.goto(f"{base}/fr/staff/93/capacity/")
    after_rule = capacity_worst(page)
    assert after_rule == {name: now for name, (_was, now) in waits.items()}

    # A closure of the prefecture's site in Bobigny, one Tuesday: its free slots go, the held ones are listed.
    bobigny = demo.sites.get(city="Bobigny")
    day = a_tuesday_partly_booked(bobigny)
    holders = set(
        Hold.objects.filter(slot__in=day_slots(bobigny, day)).values_list("request__reference", flat=True)
    )
    held = len(holders)  # one person holds one slot at most
    free = day_slots(bobigny, day).count() - held
    page.goto(f"{base}/fr/staff/93/catalogue/")
    with page.expect_navigation():
        page.click("text=Ajouter une fermeture")
    page.select_option("#id_site", str(bobigny.pk))
    page.fill("#id_start_date", day.isoformat())
    page.fill("#id_end_date", day.isoformat())
    page.fill("#id_reason", "Formation de tous les agents du site")
    submit(page, "button[name=preview]")
    problems += look(page, "closure preview")
    assert heading_count(page, "créneaux libres supprimés") == free > 0
    assert heading_count(page, "créneaux réservés") == held > 0
    # Who holds them, listed by reference (their appointments and offers are settled on the next page).
    assert set(page.locator(".bo-effect table.bo-affected tbody th a").all_inner_texts()) == holders
    waits = preview_waits(page)
    assert {name: was for name, (was, _now) in waits.items()} == after_rule
    longer = {name for name, (was, now) in waits.items() if now != was}
    assert longer and all(waits[name][1] > waits[name][0] for name in longer), waits
    assert not Closure.objects.filter(site=bobigny, start_date=day).exists()
    submit(page, "button[name=save]")
    assert Closure.objects.filter(site=bobigny, start_date=day, end_date=day).exists()
    assert not day_slots(bobigny, day).filter(hold__isnull=True).exists()
    assert page.url.endswith("/fr/staff/93/affected/")
    assert set(page.locator("table.bo-affected tbody th a").all_inner_texts()) == holders
    problems += look(page, "closure saved affected")

    page.goto(f"{base}/fr/staff/93/capacity/")
    after = capacity_worst(page)
    problems += look(page, "capacity after")
    assert after == {name: now for name, (_was, now) in waits.items()}
    assert after != before


def an_agent_is_invited_and_logs_in(base: str, admin, agent, problems: list[str]) -> None:
    log_in(admin, base, "admin-93", demo_password("admin-93"), demo_code("admin-93"))
    admin.goto(f"{base}/fr/staff/93/members/")
    admin.fill("#id_invite-username", "nadia.benali")
    admin.fill("#id_invite-email", "nadia.benali@seine-saint-denis.example.org")
    admin.fill("#id_invite-first_name", "Nadia")
    admin.fill("#id_invite-last_name", "Benali")
    admin.select_option("#id_invite-role", "agent")
    submit(admin, "text=Envoyer l’invitation")
    problems += look(admin, "members invitation sent")
    assert "nadia.benali" in admin.inner_text("main")
    (invitation,) = [m for m in mail.outbox if "nadia.benali@seine-saint-denis.example.org" in m.to]
    link = re.search(rf"{re.escape(base)}/\S+", invitation.body).group(0)

    agent.goto(link)
    problems += look(agent, "invitation set password")
    agent.fill("#id_password", AGENT_PASSWORD)
    agent.fill("#id_confirmation", AGENT_PASSWORD)
    submit(agent)
    assert agent.url.endswith("/fr/staff/login/setup/")
    problems += look(agent, "invitation enrol second factor")
    secret = agent.inner_text("code.bo-secret").replace(" ", "")
    agent.fill("#id_code", pyotp.TOTP(secret).now())
    submit(agent)
    problems += look(agent, "invitation recovery codes")
    with agent.expect_navigation():
        agent.click("text=Je les ai gardés : continuer")
    assert agent.url == f"{base}/fr/staff/"
    # The link was for one use.
    again = agent.context.new_page()
    assert again.goto(link).status == 404
    assert "Ce lien n’est pas valable" in again.inner_text("main")
    assert not again.locator("#id_password").count()
    again.close()

    # Logged out, the agent logs in as anyone does: password, then the app's code (the next one).
    submit(agent, "form[action$='/staff/logout/'] button")
    log_in(agent, base, "nadia.benali", AGENT_PASSWORD, pyotp.TOTP(secret).at(time.time() + 30))
    assert "Votre rôle : Agent" in agent.inner_text("main")
    agent.goto(f"{base}/fr/staff/93/queue/")
    problems += look(agent, "agent queue")
    assert agent.locator("main table tbody tr").count() > 0


def as_shown(column: str, value: str, language: str) -> str:
    """A CSV value as the page's table writes it in `language`."""
    with translation.override(language):
        if value == "":
            return "—"
        if column == "week":
            return formats.date_format(datetime.date.fromisoformat(value), "SHORT_DATE_FORMAT")
        if column.endswith(("_share", "_rate")):
            return f"{round(float(value) * 100)} %"
        number = float(value)
        return formats.localize(int(number) if number.is_integer() and "." not in value else number)


def figures_in(page, base: str, language: str, demo: Prefecture, problems: list[str]) -> None:
    page.goto(f"{base}/{language}/figures/93/")
    assert page.locator("html").get_attribute("lang") == language
    problems += look(page, f"figures {language}")
    table = page.locator("table:has(#weekly-caption)")
    header = table.locator("thead th").all_inner_texts()
    shown = rows(page, "table:has(#weekly-caption) tbody tr")
    weeks = series.cached_series(demo).weeks
    assert len(shown) == len(weeks) >= 52
    with page.expect_download() as download:
        page.click("a[type='text/csv']")
    text = download.value.path().read_text(encoding="utf-8")
    lines = list(csv.reader(io.StringIO(text)))
    columns, values = lines[0], lines[1:]
    assert columns[:2] == ["week", "received"] and len(columns) == len(header)
    assert [c.removeprefix("received_") for c in columns[2:7]] == series.CHANNELS
    assert len(values) == len(shown)
    for cells, row in zip(shown, values, strict=True):
        assert cells == [as_shown(c, v, language) for c, v in zip(columns, row, strict=True)], (cells, row)
    # The demo's queue was filed over the last six weeks: the charts have bars, one per week with a figure.
    charts = page.locator("svg.chart[role=img]")
    assert charts.count() == 4
    received = charts.nth(0).locator("rect.chart-bar title").all_text_contents()
    assert received == [f"{row[0]}: {int(row[1])}" for row in values]
    assert sum(int(row[1]) for row in values) == demo.requests.count() > 0
    # Time runs left to right in Arabic too.
    assert page.locator(".chart-frame").first.get_attribute("dir") == "ltr"


def test_a_manager_edits_the_catalogue_an_agent_is_invited_and_the_figures_are_published(
    live_server, demo, open_page
):
    base = live_server.url
    problems: list[str] = []
    manager_edits_the_catalogue(base, open_page(**DESKTOP), demo, problems)
    an_agent_is_invited_and_logs_in(base, open_page(**DESKTOP), open_page(**DESKTOP), problems)
    public = open_page()
    for language in ("fr", "ar"):
        figures_in(public, base, language, demo, problems)
    assert not problems, "\n".join(problems)
