"""In a browser: an agent asks for the print run, the job's page shows it waiting and then (updated in place
by backoffice/job.js while the worker runs) finished, with the PDF to download; axe finds nothing on the
letters page and on the job's page in each state met."""

import datetime
import os
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from guichet.backoffice.models import StaffJob
from tests.backoffice.helpers import staff
from tests.backoffice.test_catalogue_browser import SHOTS, axe, log_in
from tests.backoffice.test_letters import by_post
from tests.factories import world as make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_print_run_is_a_job_whose_page_follows_it(live_server, open_page, settings):
    settings.SITE_URL = live_server.url
    base = live_server.url
    world = make_world()
    for family in ("Benali", "Okafor", "Nguyen"):
        by_post(world, family, language="ar" if family == "Benali" else "fr")
    agent = staff(world.prefecture, username="agent-93")
    problems: list[str] = []

    page = open_page(width=1280, height=900)
    log_in(page, base, agent)
    page.goto(f"{base}/fr/staff/93/letters/")
    problems += axe(page, "letters")
    page.click("text=Préparer le PDF")
    page.wait_for_url(re.compile(r"/fr/staff/93/jobs/\d+/$"))
    assert "En attente" in page.inner_text("main")
    problems += axe(page, "job waiting")
    # Without JavaScript the page reloads itself while the job runs.
    still = open_page(javascript=False, width=1280, height=900)
    still.context.add_cookies(page.context.cookies())  # the same session (a TOTP code works once)
    still.goto(page.url)
    assert 'http-equiv="refresh"' in still.content() and "se recharge" in still.inner_text("main")

    call_command("db_worker", "--batch", "--interval", "0", "--no-startup-delay", "--no-reload", verbosity=0)
    # The script reads the status and shows the way to the result, without a reload.
    page.wait_for_selector("[data-job-done]:not([hidden])", timeout=15_000)
    page.click("text=Le travail est terminé")
    assert "3 courriers dans le PDF" in page.inner_text("main")
    problems += axe(page, "job done")
    with page.expect_download() as download:
        page.click("text=Télécharger")
    assert download.value.suggested_filename.startswith("letters-93-")
    assert (SHOTS / "job-done.png").exists()
    # Past its retention the PDF is deleted; the page says so, under /fr/ and (in French, ltr) under /ar/.
    StaffJob.objects.update(finished_at=timezone.now() - datetime.timedelta(days=8))
    call_command("purge_staff_job_files", stdout=open(os.devnull, "w"))
    page.reload()
    assert "a été supprimé le" in page.inner_text("main") and "Télécharger" not in page.inner_text("main")
    problems += axe(page, "job expired")
    page.goto(page.url.replace("/fr/", "/ar/"))
    assert page.get_attribute("html", "dir") == "ltr" and "a été supprimé le" in page.inner_text("main")
    problems += axe(page, "job expired under ar")
    assert not problems, "\n".join(problems)
