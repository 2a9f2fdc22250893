"""The dossier from a phone, in Arabic, without JavaScript: answered, documents sent, one correction asked
by an agent, corrected, found complete. axe-core checks each state of the page (WCAG 2.1 AA)."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from guichet.dossiers import services
from guichet.dossiers.models import Document, DossierState
from guichet.evidence.audit import Actor
from guichet.waitlist import access
from tests.browser import ARTIFACTS
from tests.public.browser.test_axe import AXE_OPTIONS, _describe

from . import helpers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AGENT = Actor("staff", label="agent")


def axe_problems(open_page, url: str, label: str) -> list[str]:
    page = open_page(javascript=True)
    page.goto(url)
    page.evaluate(Axe().axe_script)
    return _describe(label, page.evaluate("(o) => axe.run(document, o).then(r => r.violations)", AXE_OPTIONS))


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dossier-{name}.png"), full_page=True)


def test_a_dossier_completed_from_a_phone_in_arabic_without_javascript(
    live_server,
    filed,
    open_page,
    tmp_path,
):
    url = live_server.url + f"/ar/r/{filed.reference}/{access.signed_key(filed.reference)}/dossier/"
    page = open_page(javascript=False)
    page.goto(url)
    assert page.locator("html").get_attribute("dir") == "rtl"
    problems = axe_problems(open_page, url, "dossier empty [ar]")
    shot(page, "ar-empty")

    # The answers: a date and "no" to being married (the spouse's name is then never asked).
    page.fill("input[name=entry-date]", "2024-02-01")
    page.check("input[name=married][value=no]")
    page.locator("form:has(input[name=entry-date]) button[type=submit]").click()
    assert "حُفظت إجاباتك" in page.content()

    # A bad file first: refused on its field, in Arabic.
    bad = tmp_path / "passport.pdf"
    bad.write_bytes(b"<html><body>not a scan</body></html>")
    page.set_input_files("input[name=doc-1-file]", str(bad))
    page.locator("#item-doc-1 button[type=submit]").click()
    assert "لا يُقبل إلا ملف PDF" in page.content()
    problems += axe_problems(open_page, url, "dossier [ar]")  # the refused upload stored nothing
    shot(page, "ar-refused-file")

    for item, name, content in (
        ("doc-1", "passport.pdf", helpers.pdf_bytes()),
        ("doc-2", "edf.jpg", helpers.jpeg_bytes()),
    ):
        path = tmp_path / name
        path.write_bytes(content)
        page.set_input_files(f"input[name={item}-file]", str(path))
        page.locator(f"#item-{item} button[type=submit]").click()
        assert "وصلت الوثيقة" in page.content()
    page.locator("form[action$='/dossier/submit/'] button").click()
    assert services.dossier_for(filed).state == DossierState.SUBMITTED

    # The agent asks for one correction.
    passport = Document.objects.get(item="doc-1")
    address = Document.objects.get(item="doc-2")
    services.review_dossier(
        filed,
        [
            services.Decision(passport.pk, True),
            services.Decision(address.pk, False, "الفاتورة أقدم من 3 أشهر"),
        ],
        AGENT,
    )
    page.goto(url)
    assert "الفاتورة أقدم من 3 أشهر" in page.content()
    problems += axe_problems(open_page, url, "dossier to correct [ar]")
    shot(page, "ar-to-correct")

    corrected = tmp_path / "edf-2.png"
    corrected.write_bytes(helpers.png_bytes())
    page.set_input_files("input[name=doc-2-file]", str(corrected))
    page.locator("#item-doc-2 button[type=submit]").click()
    new = Document.objects.get(item="doc-2", replaced_at__isnull=True)
    services.review_dossier(filed, [services.Decision(new.pk, True)], AGENT)
    page.goto(url)
    assert services.dossier_for(filed).state == DossierState.COMPLETE
    assert "ملفك مكتمل" in page.content()
    problems += axe_problems(open_page, url, "dossier complete [ar]")
    shot(page, "ar-complete")
    assert not problems, "\n".join(problems)
