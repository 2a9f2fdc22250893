"""Issue #12's "done when", in a browser, on the demo prefecture and its published forms.

1. A person files a request from a phone in Arabic without JavaScript, completes the dossier there (answers,
   every document of the list), sends it; an agent in the back office asks for one correction; the person
   reads it in Arabic and sends a new file; the agent accepts it and the dossier is complete. Each step
   gave the person a signed proof, which /verify accepts.
2. The same entirely at the counter for a person without web access: the agent registers the request, types
   the answers with the person, scans the papers, asks for one correction (a rescan), accepts it; the
   person is told by letter. On the day, reception reads "dossier complete: registration only".

axe (WCAG 2.1 AA) runs on every page met; each is screenshotted (applicant pages in French and Arabic).
"""

import datetime
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import Client
from django.utils import timezone

from guichet.appointments.services import accept_offer
from guichet.catalog.demo import FIRST, build_demo_prefecture
from guichet.dossiers import services
from guichet.dossiers.demo import build_demo_forms
from guichet.dossiers.models import Document, DocumentSource, DossierState
from guichet.evidence.audit import APPLICANT
from guichet.evidence.models import ProofEvent
from guichet.notifications.models import OutboxMessage
from guichet.reception.models import Visit
from guichet.waitlist.models import AppointmentRequest
from tests import browser
from tests.appointments import builders
from tests.backoffice.helpers import staff, verified_login
from tests.public.browser.test_axe import AXE_OPTIONS, _describe

from . import helpers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = browser.ARTIFACTS / "screenshots" / "dossier"
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def demo(dossier_storage):
    prefecture = build_demo_prefecture()
    build_demo_forms(prefecture)
    return prefecture


def shot(page, label: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def axe(page, label: str) -> list[str]:
    """axe's violations on the page shown (it needs JavaScript: give it a page that has it)."""
    page.evaluate(Axe().axe_script)
    return _describe(label, page.evaluate("(o) => axe.run(document, o).then(r => r.violations)", AXE_OPTIONS))


def check_with_axe(open_page, url: str, label: str) -> list[str]:
    """The same address in a page with JavaScript (the person's has none), screenshotted and checked."""
    page = open_page(javascript=True)
    page.goto(url)
    shot(page, label)
    return axe(page, label)


def agent_page(chromium, live_server, prefecture, username: str):
    """A desktop page in a session of an agent past the second factor."""
    client = Client()
    verified_login(client, staff(prefecture, "agent", username=username))
    context = chromium.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context.new_page()


def fill_intake(page, family: str, given: str, birth: str, nationality: str, **contact: str) -> None:
    """The intake form (the public one or the agent's): identity, a contact, the first site offered."""
    for name, value in {"family_names": family, "given_names": given, "birth_date": birth, **contact}.items():
        page.fill(f"#id_{name}", value)
    page.select_option("select[name=nationality]", nationality)
    page.locator("input[name=sites]").first.check()


def submit(page, form_selector: str) -> None:
    with page.expect_navigation():
        page.locator(f"{form_selector} button[type=submit]").first.click()


def files(tmp_path, count: int) -> list[str]:
    """A PDF, a JPEG and a PNG in turn, as a phone or a scanner makes them."""
    made = []
    for index in range(count):
        kind = ("pdf", "jpg", "png")[index % 3]
        content = {"pdf": helpers.pdf_bytes, "jpg": helpers.jpeg_bytes, "png": helpers.png_bytes}[kind]()
        path = tmp_path / f"piece-{index + 1}.{kind}"
        path.write_bytes(content)
        made.append(str(path))
    return made


def review(page, decisions: dict[int, str | None]) -> None:
    """On the staff dossier page: accept (None) or ask a correction (the reason) for each document."""
    for document_id, reason in decisions.items():
        page.check(f"input[name=decision_{document_id}][value={'correct' if reason else 'accept'}]")
        if reason:
            page.fill(f"textarea[name=reason_{document_id}]", reason)
    submit(page, "form[action$='/dossier/review/']")


def test_a_dossier_completed_from_a_phone_in_arabic_without_javascript(
    live_server, demo, open_page, chromium, tmp_path
):
    procedure = demo.procedures.get(code=FIRST)
    problems: list[str] = []

    # Filed from the phone, in Arabic, without JavaScript.
    phone = open_page(javascript=False)
    phone.goto(f"{live_server.url}/ar/procedures/{demo.code}/{procedure.code}/request/")
    assert phone.locator("html").get_attribute("dir") == "rtl"
    fill_intake(phone, "Haddad", "أمينة", "1991-03-12", "DZ", email="amina@example.org")
    submit(phone, "form[method=post]")
    filed = AppointmentRequest.objects.get()
    assert filed.language == "ar"
    secret = phone.locator("#secret-link").inner_text().strip()
    phone.goto(live_server.url + "/" + secret.split("/", 3)[3])  # the link names SITE_URL
    with phone.expect_navigation():
        phone.locator("a[href$='/dossier/']").click()
    dossier_url = phone.url
    assert dossier_url.startswith(f"{live_server.url}/ar/r/{filed.reference}/")
    problems += check_with_axe(open_page, dossier_url, "phone ar dossier empty")
    problems += check_with_axe(open_page, dossier_url.replace("/ar/", "/fr/", 1), "phone fr dossier empty")

    # The answers (the spouse's nationality is asked only after "yes" is saved), then every document.
    phone.fill("input[name=date-entree]", "2023-09-01")
    phone.check("input[name=marie][value=yes]")
    phone.fill("textarea[name=adresse]", "12 rue de la République, 93000 Bobigny")
    submit(phone, "form:has(input[name=date-entree])")
    assert "حُفظت إجاباتك" in phone.content()
    phone.select_option("select[name=nationalite-conjoint]", "MA")
    submit(phone, "form:has(input[name=date-entree])")
    items = services.items(services.dossier_for(filed))
    assert len(items) == len(procedure.documents) == 6
    # A web page saved as .pdf is refused on its field, in Arabic, and nothing is stored.
    bad = tmp_path / "passport.pdf"
    bad.write_bytes(b"<html><body>not a scan</body></html>")
    phone.set_input_files(f"input[name={items[0].code}-file]", str(bad))
    submit(phone, f"#item-{items[0].code}")
    assert "لا يُقبل إلا ملف PDF" in phone.content() and not Document.objects.exists()
    shot(phone, "phone ar file refused")
    for item, path in zip(items, files(tmp_path, len(items)), strict=True):
        phone.set_input_files(f"input[name={item.code}-file]", path)
        submit(phone, f"#item-{item.code}")
        assert "وصلت الوثيقة" in phone.content()
    submit(phone, "form[action$='/dossier/submit/']")
    assert services.dossier_for(filed).state == DossierState.SUBMITTED
    problems += check_with_axe(open_page, dossier_url, "phone ar dossier sent")

    # The agent reviews in the back office: one correction asked.
    agent = agent_page(chromium, live_server, demo, "agent-review")
    agent.goto(f"{live_server.url}/fr/staff/requests/{filed.reference}/")
    with agent.expect_navigation():
        agent.locator("a[href$='/dossier/']").click()
    staff_dossier = agent.url
    current = list(Document.objects.filter(replaced_at__isnull=True).order_by("item"))
    address = next(d for d in current if d.label.startswith("Justificatif de domicile"))
    reason = "La facture date de plus de 6 mois : envoyez-en une plus récente."
    review(agent, {d.pk: (reason if d == address else None) for d in current})
    assert services.dossier_for(filed).state == DossierState.TO_CORRECT
    assert "À corriger" in agent.content()
    shot(agent, "agent fr dossier to correct")
    problems += axe(agent, "agent fr dossier to correct")
    told = OutboxMessage.objects.filter(request=filed, kind="dossier_to_correct")
    assert told.exists() and reason in str(told.first().context)

    # The person reads what to correct, in Arabic, and sends a new file.
    phone.goto(dossier_url)
    assert reason in phone.content()
    problems += check_with_axe(open_page, dossier_url, "phone ar dossier to correct")
    problems += check_with_axe(
        open_page, dossier_url.replace("/ar/", "/fr/", 1), "phone fr dossier to correct"
    )
    phone.set_input_files(f"input[name={address.item}-file]", files(tmp_path, 2)[1])
    submit(phone, f"#item-{address.item}")
    assert services.dossier_for(filed).state == DossierState.SUBMITTED  # back to review by itself

    # The agent accepts it: the dossier is complete.
    agent.goto(staff_dossier)
    new = Document.objects.get(item=address.item, replaced_at__isnull=True)
    review(agent, {new.pk: None})
    assert services.dossier_for(filed).state == DossierState.COMPLETE
    shot(agent, "agent fr dossier complete")
    problems += axe(agent, "agent fr dossier complete")
    phone.goto(dossier_url)
    assert "ملفك مكتمل" in phone.content()
    problems += check_with_axe(open_page, dossier_url, "phone ar dossier complete")
    problems += check_with_axe(open_page, dossier_url.replace("/ar/", "/fr/", 1), "phone fr dossier complete")

    # Every step gave the person a signed proof; the last one verifies on /verify, in Arabic.
    events = list(filed.proofs.values_list("event", flat=True))
    assert ProofEvent.CORRECTION_ASKED in events and events[-1] == ProofEvent.DOSSIER_COMPLETE
    assert events.count(ProofEvent.DOCUMENT_SENT) == 7
    phone.goto(f"{live_server.url}/ar/verify/")
    phone.fill("textarea[name=t]", filed.proofs.order_by("issued_at", "id").last().token)
    submit(phone, "form[action$='/verify/']")
    assert "verify-valid" in phone.content()
    assert "وجده مكتملًا" in phone.content()
    shot(phone, "phone ar proof dossier complete verified")
    assert not problems, "\n".join(problems)


def test_the_same_entirely_at_the_counter_for_a_person_without_web_access(
    live_server, demo, chromium, tmp_path
):
    procedure = demo.procedures.get(code=FIRST)
    problems: list[str] = []
    agent = agent_page(chromium, live_server, demo, "agent-counter")

    # The agent registers the request of a person who has neither email nor phone.
    agent.goto(f"{live_server.url}/fr/staff/{demo.code}/intake/?channel=counter")
    agent.select_option("select[name=procedure]", procedure.code)
    address = "Moussa Diallo\n4 allée des Tilleuls\n93000 Bobigny"
    fill_intake(agent, "Diallo", "Moussa", "1985-11-02", "ML", postal_address=address)
    submit(agent, "form[method=post]:has(#id_family_names)")
    filed = AppointmentRequest.objects.get()
    assert filed.reachable_only_by_post and filed.channel == "counter"
    agent.goto(f"{live_server.url}/fr/staff/requests/{filed.reference}/dossier/")
    staff_dossier = agent.url
    shot(agent, "counter fr dossier empty")
    problems += axe(agent, "counter fr dossier empty")

    # The answers typed with the person, then each paper scanned.
    agent.fill("input[name=date-entree]", "2021-06-15")
    agent.check("input[name=marie][value=no]")
    agent.fill("textarea[name=adresse]", "4 allée des Tilleuls, 93000 Bobigny")
    submit(agent, f"form[action='{staff_dossier.removeprefix(live_server.url)}']")
    items = services.items(services.dossier_for(filed))
    for item, path in zip(items, files(tmp_path, len(items)), strict=True):
        agent.set_input_files(f"input[name={item.code}-file]", path)
        assert agent.locator(f"select[name={item.code}-source]").input_value() == DocumentSource.COUNTER
        submit(agent, f"#item-{item.code}")
    assert not services.missing(services.dossier_for(filed))

    # One scan is unreadable: a correction asked, then the paper scanned again and accepted.
    current = list(Document.objects.filter(replaced_at__isnull=True).order_by("item"))
    blurred = current[0]
    review(
        agent, {d.pk: ("Scan illisible : numériser à nouveau." if d == blurred else None) for d in current}
    )
    assert services.dossier_for(filed).state == DossierState.TO_CORRECT
    letter = OutboxMessage.objects.get(request=filed, kind="dossier_to_correct")
    assert letter.channel == "letter"
    agent.locator(f"#item-{blurred.item} summary").click()
    agent.set_input_files(f"input[name={blurred.item}-file]", files(tmp_path, 1)[0])
    submit(agent, f"#item-{blurred.item}")
    rescanned = Document.objects.get(item=blurred.item, replaced_at__isnull=True)
    review(agent, {rescanned.pk: None})
    assert services.dossier_for(filed).state == DossierState.COMPLETE
    shot(agent, "counter fr dossier complete")
    problems += axe(agent, "counter fr dossier complete")
    events = list(filed.proofs.values_list("event", flat=True))
    assert events.count(ProofEvent.DOCUMENT_SCANNED) == len(items) + 1
    assert events[-1] == ProofEvent.DOSSIER_COMPLETE

    # The day of the appointment: reception reads the dossier, the visit is registration only.
    counter = demo.sites.first().counters.first()
    now = timezone.now()
    slot = builders.slot(counter, (now + datetime.timedelta(minutes=10)).replace(microsecond=0))
    offer = builders.offer(filed, slot, now=now - datetime.timedelta(days=1))
    appointment = accept_offer(offer, APPLICANT, now=now - datetime.timedelta(days=1))
    agent.goto(f"{live_server.url}/fr/staff/{demo.code}/reception/sites/{counter.site_id}/")
    assert "Complet" in agent.content()
    agent.fill("input[name=scan]", filed.reference)
    submit(agent, "form:has(input[name=scan])")
    assert "Dossier complet : enregistrement seulement." in agent.content()
    shot(agent, "reception fr identity dossier complete")
    problems += axe(agent, "reception fr identity dossier complete")
    submit(agent, "form:has(input[value=checked])")
    visit = Visit.objects.get(appointment=appointment)
    assert visit.dossier_complete and visit.planned_minutes == procedure.registration_minutes
    assert "il ne reste que l'enregistrement" in agent.content()
    shot(agent, "reception fr ticket dossier complete")
    problems += axe(agent, "reception fr ticket dossier complete")
    assert not problems, "\n".join(problems)
