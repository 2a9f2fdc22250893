import datetime
from django.db import transaction
from django.utils import translation
from guichet.evidence import audit, services, views, pdf, court_file
from guichet.evidence.models import Proof, ProofEvent
from .helpers import make_request


def test_write(world, settings):
    request, token = make_request(world, procedure="renewal", family_names="الحسيني", given_names="فاطمة الزهراء",
        received_at=datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC),
        permit_expires_on=datetime.date(2026, 3, 1), postal_address="5 rue Jean Jaurès\n94200 Ivry-sur-Seine")
    for week in range(1, 5):
        with transaction.atomic():
            services.record_event(request, ProofEvent.STILL_WAITING, audit.SYSTEM,
                details={"days_waiting": 7 * week, "week": week, "since": datetime.datetime(2026, 1, 5, 9, tzinfo=datetime.UTC) + datetime.timedelta(days=7 * (week - 1))},
                at=datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC) + datetime.timedelta(days=7 * week))
    with transaction.atomic():
        services.record_event(request, ProofEvent.OFFER_LAPSED, audit.SYSTEM,
            details={"site": "Bobigny", "starts_at": datetime.datetime(2026, 2, 10, 8, tzinfo=datetime.UTC), "offer": 3},
            at=datetime.datetime(2026, 2, 6, 9, 0, tzinfo=datetime.UTC))
    proofs = list(services.proofs_of(request))
    for lang in ("fr", "ar"):
        with translation.override(lang):
            body = pdf.render_pdf("evidence/pdf/proofs.html", views.proofs_pdf_context(request, proofs))
        open(f"/tmp/ev_proofs_{lang}.pdf", "wb").write(body)
    now = datetime.datetime(2026, 2, 9, 10, tzinfo=datetime.UTC)
    body = court_file.render_court_file(request, now=now)
    open("/tmp/ev_court.pdf", "wb").write(body)
    print(len(proofs[0].token), [pdf.proof_qr(p.token).version for p in proofs])


def test_timing(world):
    import time
    request, token = make_request(world)
    proofs = list(services.proofs_of(request))
    t = time.perf_counter()
    body = pdf.render_pdf("evidence/pdf/proofs.html", views.proofs_pdf_context(request, proofs))
    print("one proof pdf", time.perf_counter() - t)
    t = time.perf_counter()
    body = pdf.render_pdf("evidence/pdf/proofs.html", views.proofs_pdf_context(request, proofs))
    print("one proof pdf again", time.perf_counter() - t)
    import cProfile, pstats
    pr = cProfile.Profile(); pr.enable()
    pdf.render_pdf("evidence/pdf/proofs.html", views.proofs_pdf_context(request, proofs))
    pr.disable(); pstats.Stats(pr).sort_stats("cumulative").print_stats(25)
