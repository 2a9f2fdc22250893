"""The court file: available only after 3 weeks without an appointment, past the due date, or 30 days before
the permit expires; one French PDF with the chronology, the legal basis, the tribunal and a petition."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format

from guichet.evidence import audit, court_file, figures, services
from guichet.evidence.models import ProofEvent
from guichet.public import series
from guichet.waitlist.models import RequestStatus
from tests import pdf
from tests.appointments import builders

from .helpers import free_slot, give_appointment, make_request

T0 = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC)


def day(offset: int) -> datetime.date:
    return (T0 + datetime.timedelta(days=offset)).date()


def test_not_before_three_weeks(world):
    request, _ = make_request(world, received_at=T0, due_date=day(60))
    available, reason = court_file.court_file_available(request, day(20))
    assert not available
    assert "from January 26, 2026" in reason or "2026" in reason
    assert court_file.court_file_available(request, day(21)) == (
        True,
        court_file.court_file_available(request, day(21))[1],
    )
    assert court_file.court_file_available(request, day(21))[0]
    assert "21 days" in court_file.court_file_available(request, day(21))[1]


def test_past_the_due_date(world):
    request, _ = make_request(world, received_at=T0, due_date=day(10))
    assert not court_file.court_file_available(request, day(10))[0]
    available, reason = court_file.court_file_available(request, day(11))
    assert available and "due date" in reason


def test_permit_expiring_within_30_days(world):
    request, _ = make_request(
        world, procedure="renewal", received_at=T0, due_date=day(60), permit_expires_on=day(40)
    )
    assert not court_file.court_file_available(request, day(9))[0]
    available, reason = court_file.court_file_available(request, day(10))
    assert available and "expires" in reason


def test_not_with_an_appointment_or_when_no_longer_waiting(world):
    request, _ = make_request(world, received_at=timezone.now() - datetime.timedelta(days=40))
    assert court_file.court_file_available(request)[0]
    give_appointment(request, free_slot(world, timezone.now() + datetime.timedelta(days=2)))
    available, reason = court_file.court_file_available(request)
    assert not available and "appointment" in reason
    withdrawn, _ = make_request(
        world,
        received_at=timezone.now() - datetime.timedelta(days=40),
        status=RequestStatus.WITHDRAWN,
        family_names="W",
    )
    assert not court_file.court_file_available(withdrawn)[0]


@pytest.fixture
def long_wait(world):
    received = timezone.now() - datetime.timedelta(days=23)
    request, token = make_request(
        world,
        procedure="renewal",
        received_at=received,
        family_names="الحسيني",
        given_names="Fatima",
        postal_address="5 rue Jean Jaurès\n94200 Ivry-sur-Seine",
        permit_expires_on=(timezone.now() + datetime.timedelta(days=50)).date(),
    )
    for week in (1, 2, 3):
        with transaction.atomic():
            services.record_event(
                request,
                ProofEvent.STILL_WAITING,
                audit.SYSTEM,
                details={"days_waiting": 7 * week, "week": week},
                at=received + datetime.timedelta(days=7 * week),
            )
    return request, token


def test_court_file_pdf_content(long_wait, client):
    request, token = long_wait
    response = client.get(f"/ar/requests/{request.reference}/court-file.pdf", {"token": token})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "dossier-refere" in response["Content-Disposition"]
    text = pdf.text(response.content)
    flat = " ".join(text.split())
    # French whatever the page's language.
    assert "Dossier de référé « mesures utiles »" in flat
    assert "Ce document n'est pas un conseil juridique" in flat
    # Summary.
    assert request.reference in flat and "12 avril 1990" in flat
    assert "الحسيني" in text or "ينيسحلا" in text
    # Chronology: 4 proofs, 3 of them weekly statements, over 4 distinct weeks.
    assert "4 preuves signées, dont 3 attestations hebdomadaires" in flat
    assert flat.count("Attestation hebdomadaire : toujours en attente") == 3
    assert "Demande enregistrée" in flat
    # Legal basis.
    assert "L.521-3" in flat and "435594" in flat and "453391" in flat
    assert "l'urgence est présumée" in flat
    # The tribunal of the residence (Val-de-Marne: Melun), with its address.
    assert "Tribunal administratif de Melun" in flat and "77008 Melun Cedex" in flat
    assert "R.312-8" in flat
    # The petition to complete.
    assert "Requête en référé « mesures utiles »" in flat or "REQUÊTE" in flat.upper()
    assert "Par ces motifs" in flat and "[nombre]" in flat and "astreinte" in flat


def test_court_file_for_a_first_permit_asks_for_urgency_circumstances(world, client):
    request, token = make_request(world, received_at=timezone.now() - datetime.timedelta(days=22))
    text = " ".join(
        pdf.text(
            client.get(f"/fr/requests/{request.reference}/court-file.pdf", {"token": token}).content
        ).split()
    )
    assert "Exposez les circonstances particulières" in text
    assert "Tribunal administratif de Montreuil" in text  # 93100 Montreuil


def test_court_file_access(long_wait, client, staff_client, world):
    request, token = long_wait
    url = f"/fr/requests/{request.reference}/court-file.pdf"
    assert client.get(url).status_code == 404
    assert client.get(url, {"token": "nope"}).status_code == 404
    assert staff_client.get(url).status_code == 200


def test_court_file_not_yet_available_says_why(world, client):
    request, token = make_request(world)
    response = client.get(f"/en/requests/{request.reference}/court-file.pdf", {"token": token})
    assert response.status_code == 403
    assert "not available yet" in response.content.decode()
    history = client.get(f"/en/requests/{request.reference}/proofs/", {"token": token}).content.decode()
    assert "court-file.pdf" not in history and "A court file is available after 3 weeks" in history


def test_history_links_the_court_file_when_available(long_wait, client):
    request, token = long_wait
    history = client.get(f"/en/requests/{request.reference}/proofs/", {"token": token}).content.decode()
    assert f"/en/requests/{request.reference}/court-file.pdf?token=" in history
    assert "not legal advice" in history


def test_the_court_file_quotes_the_published_figures_of_the_procedure(long_wait, world, client):
    """Section 3 quotes the prefecture's own weekly figures for the procedure (those of the figures page,
    its CSV and the API), over the last complete weeks, with the addresses where anyone reads them again;
    the petition cites them when the median wait exceeded the target."""
    request, token = long_wait
    renewal = world.procedures["renewal"]  # target: 45 days
    tz = world.prefecture.tzinfo
    today = timezone.now().astimezone(tz).date()
    monday = today - datetime.timedelta(days=today.weekday())
    served = [(3, 50), (3, 90), (2, 20)]  # (weeks ago, days waited): two weeks with people served
    for n, (weeks_ago, waited) in enumerate(served):
        starts = builders.at_local(world.counters[0], monday - datetime.timedelta(weeks=weeks_ago), 9 + n)
        other, _ = make_request(
            world,
            procedure="renewal",
            received_at=starts - datetime.timedelta(days=waited),
            family_names=f"Served{n}",
            status=RequestStatus.SERVED,
            with_proof=False,
        )
        builders.held(other, world.counters[0], starts)
    published = series.cached_series(world.prefecture, renewal)
    three_weeks_ago = next(row for row in published.weeks if row.week == monday - datetime.timedelta(weeks=3))
    assert (three_weeks_ago.served, three_weeks_ago.median_wait_days) == (2, 70.0)

    quoted = figures.quoted_figures(request)
    with translation.override("fr"):  # as the court file renders it
        context = court_file.figures_context(quoted, renewal.target_wait_days, tz)
        week = date_format(three_weeks_ago.week, "SHORT_DATE_FORMAT")
    # The rows as published: the last 8 complete weeks; three weeks ago 2 served, median 70 days, 9th decile
    # 86 (70 + 0.8 × 20, linear interpolation), both after their due date (45-day target); then 1 at 20 days.
    assert [week.week for week in quoted.weeks] == [
        monday - datetime.timedelta(weeks=n) for n in range(8, 0, -1)
    ]
    assert {key: context["rows"][5][key] for key in ("week", "served", "median", "p90", "late")} == {
        "week": week,
        "served": 2,
        "median": "70",
        "p90": "86",
        "late": "100 %",
    }
    assert (context["rows"][6]["median"], context["rows"][6]["late"], context["rows"][0]["median"]) == (
        "20",
        "0 %",
        "—",
    )
    assert (context["served"], context["served_weeks"], context["over_target_weeks"]) == (3, 2, 1)

    response = client.get(f"/ar/requests/{request.reference}/court-file.pdf", {"token": token})
    assert response.status_code == 200
    flat = " ".join(pdf.text(response.content).split())
    assert "3. Chiffres publiés par la préfecture pour cette démarche" in flat
    assert "sur les 8 dernières semaines complètes" in flat
    assert "Délai médian (jours)" in flat and "Délai du 9ᵉ décile (jours)" in flat
    for value in (week, "70", "86", "100 %", "0 %"):
        assert value in flat
    assert "3 personnes reçues au guichet" in flat
    assert "le délai médian l'a dépassé 1 semaine sur 2" in flat
    # Where anyone can check them.
    assert "https://guichet.example.org/fr/figures/93/renewal/" in flat
    assert "https://guichet.example.org/fr/figures/93/renewal/weekly.csv" in flat
    assert (
        quoted.api_url
        == "https://guichet.example.org/api/v1/statistics/weekly?prefecture=93&procedure=renewal"
    )
    assert "https://guichet.example.org/api/v1/statistics/weekly?" in flat
    assert "prefecture=93&procedure=renewal" in flat
    # The petition's facts cite them.
    assert "Ce retard n'est pas isolé" in flat and "(pièce n° 1, section 3 ;" in flat
    assert "7. Comment vérifier les preuves" in flat
