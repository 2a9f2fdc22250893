"""The pages that explain: home, procedures, a procedure (documents, an honest wait), the statements."""

import re

import pytest

from guichet.appointments.models import Appointment
from guichet.public import estimates
from guichet.waitlist.models import AppointmentRequest
from tests.public import scenario as scenarios

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_home_says_what_to_do_and_that_it_is_free(client, world, skin, language):
    response = client.get(f"/{language}/")
    assert response.status_code == 200
    body = text(response)
    assert f'lang="{language}"' in body and f'dir="{"rtl" if language == "ar" else "ltr"}"' in body
    assert f'href="/{language}/procedures/"' in body
    assert f'href="/{language}/status/"' in body
    # R22: free, nobody may sell, where to report.
    assert "https://signal.conso.gouv.fr" in body
    assert "https://www.internet-signalement.gouv.fr" in body
    assert f'href="/{language}/free-service/"' in body
    # The skip link and the statements every page links to.
    assert 'href="#content"' in body and 'id="content"' in body
    for path in ("accessibility", "legal", "privacy"):
        assert f'href="/{language}/{path}/"' in body


def test_skins_differ_in_marks_only(client, world, settings):
    settings.GUICHET_SKIN = "neutral"
    neutral = text(client.get("/fr/"))
    settings.GUICHET_SKIN = "dsfr"
    dsfr = text(client.get("/fr/"))
    assert "République<br>française" not in neutral and "dsfr/dist" not in neutral
    assert "République<br>française" in dsfr and "dsfr/dist/core/core.main.min.css" in dsfr
    # One set of templates: the same content in both.
    for phrase in ("https://signal.conso.gouv.fr", 'href="/fr/procedures/"'):
        assert phrase in neutral and phrase in dsfr


def test_language_switcher_keeps_the_page(client, world):
    path = f"/fr/procedures/{world.prefecture.code}/{world.procedures['first'].code}/"
    body = text(client.get(path))
    for code in ("en", "ar", "es", "ru", "uk", "zh-hans", "tr"):
        assert f'href="/{code}/procedures/{world.prefecture.code}/{world.procedures["first"].code}/"' in body
    assert 'aria-current="page"' in body


def test_procedures_list_links_each_active_procedure(client, world):
    world.procedures["collection"].is_active = False
    world.procedures["collection"].save()
    body = text(client.get("/fr/procedures/"))
    assert f"/fr/procedures/93/{world.procedures['first'].code}/" in body
    assert f"/fr/procedures/93/{world.procedures['collection'].code}/" not in body


def test_procedure_page_lists_documents_and_waits(client, world):
    first = world.procedures["first"]
    first.documents = ["Passeport en cours de validité", "Justificatif de domicile de moins de 3 mois"]
    first.save()
    scenarios.generate_slots(world, weeks=2)
    for _ in range(3):
        scenarios.file(world, "first")
    response = client.get(f"/ar/procedures/93/{first.code}/")
    assert response.status_code == 200
    body = text(response)
    assert "Passeport en cours de validité" in body and 'lang="fr"' in body
    for site in world.sites:
        assert site.name in body
    estimate = estimates.expected_wait(first, world.sites[0])
    assert estimate.waiting == 3
    assert estimate.weekly_slots > 0
    assert estimate.recent_median_days is None  # no appointment yet: no figure is invented
    assert f'href="/ar/procedures/93/{first.code}/request/"' in body


def test_recent_waits_are_the_median_of_real_appointments(world):
    scenarios.generate_slots(world, weeks=2)
    first = world.procedures["first"]
    for _ in range(estimates.MIN_RECENT_APPOINTMENTS):
        filed = scenarios.file(world, "first")
        scenarios.schedule(filed, scenarios.free_slot(world, "first"))
    waits = sorted(
        (appointment.starts_at - appointment.request.received_at).days
        for appointment in Appointment.objects.select_related("request")
    )
    site = Appointment.objects.first().counter.site
    estimate = estimates.expected_wait(first, None)
    assert estimate.recent_count == len(waits)
    assert estimate.recent_median_days == waits[len(waits) // 2]
    assert estimates.expected_wait(first, site).recent_count >= 1


def test_queue_estimate_is_a_published_slot_when_one_is_free(world):
    first = world.procedures["first"]
    scenarios.generate_slots(world, weeks=estimates.CAPACITY_WEEKS + 1)
    for _ in range(4):
        scenarios.file(world, "first", sites=[str(world.sites[1].pk)])
    estimate = estimates.expected_wait(first, world.sites[1])
    assert estimate.waiting == 4
    # Slots are free after the four ahead: the estimate is a published slot, days away.
    assert estimate.offer_in_published and 0 <= estimate.offer_days <= 7
    # Counter A of Le Raincy: first permit, 6 slots of 30 minutes each weekday morning.
    assert estimate.weekly_slots == pytest.approx(30, abs=6)


def test_unknown_procedure_is_404(client, world):
    assert client.get("/fr/procedures/93/nothing-here/").status_code == 404
    assert client.get("/fr/procedures/75/first-permit/").status_code == 404
    assert client.get("/fr/procedures/93/nothing-here/request/").status_code == 404


@pytest.mark.parametrize("path", ["accessibility", "legal", "privacy", "free-service"])
def test_statements(client, world, path):
    world.prefecture.contact_email = "accessibilite@seine-saint-denis.gouv.fr"
    world.prefecture.save()
    response = client.get(f"/en/{path}/")
    assert response.status_code == 200
    body = text(response)
    if path == "accessibility":
        # RGAA: a conformity status, a multi-year plan, a reporting channel and the recourse.
        assert "RGAA" in body and "not compliant" in body
        assert "Multi-year plan" in body
        assert "mailto:accessibilite@seine-saint-denis.gouv.fr" in body
        assert "formulaire.defenseurdesdroits.fr" in body
    if path == "privacy":
        assert "cnil.fr" in body
    if path == "free-service":
        assert "signal.conso.gouv.fr" in body and "internet-signalement.gouv.fr" in body


def test_not_found_page_is_ours_and_translated(client, world, settings):
    settings.DEBUG = False
    response = client.get("/ar/no-such-page/")
    assert response.status_code == 404
    assert 'dir="rtl"' in text(response) and "/ar/status/" in text(response)


def test_no_request_is_created_by_reading(client, world):
    for path in ("/fr/", "/fr/procedures/", "/fr/status/", "/fr/convocation/"):
        client.get(path)
    assert AppointmentRequest.objects.count() == 0
