"""Server time of each public page, with the demo data on PostgreSQL (not a test: it prints figures).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guichet_bench python bench/pages.py [--rounds 200]

Fills the database with `manage.py migrate` and `manage.py demo --requests N` (re-runnable; --no-demo skips
it), picks demo requests in each state (waiting, offered, scheduled, paused; one offer is accepted if the demo
made no appointment yet) and requests every public page through Django's whole stack in-process (the test
client: middleware, sessions, CSRF, CSP, templates, database), `--rounds` times each after a warm-up. Pages
of a request are opened with the short-lived key the status look-up gives, which costs what the private link
costs, minus one SHA-256.

In the same run it times a trivial view (an empty HttpResponse behind the same middleware): the baseline of
what any page costs here. Prints p50 and p95 per page in milliseconds, and the ratio of each p95 to the
baseline's. Target: every page at most 50 ms at p95. The last line is the summary.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import time
from importlib import import_module
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

TARGET_MS = 50.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="timed requests per page (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests per page first (default 10)")
    parser.add_argument("--requests", default="2000", help="synthetic requests for the demo (default 2000)")
    parser.add_argument("--no-demo", action="store_true", help="use the database as it is")
    parser.add_argument("--allow-sqlite", action="store_true", help="run on SQLite (figures not comparable)")
    parser.add_argument("--language", default="fr", help="language of the pages (default fr)")
    return parser.parse_args()


def setup(args: argparse.Namespace) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guichet.settings")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")) and not args.allow_sqlite:
        sys.exit("Set DATABASE_URL to a PostgreSQL database (or pass --allow-sqlite).")
    import django

    django.setup()


def trivial(request):
    from django.http import HttpResponse

    return HttpResponse(b"")


def fill(args: argparse.Namespace) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not args.no_demo:
        call_command("demo", requests=args.requests, stdout=io.StringIO())


def pick_requests():
    """One demo request per state the pages show (None where the demo has none)."""
    from guichet.appointments.models import Offer, OfferStatus
    from guichet.appointments.services import accept_offer
    from guichet.evidence.audit import APPLICANT
    from guichet.waitlist.models import AppointmentRequest, RequestStatus

    requests = AppointmentRequest.objects.order_by("due_date", "id")
    chosen = {
        "waiting": requests.filter(status=RequestStatus.WAITING).first(),
        "offered": requests.filter(status=RequestStatus.OFFERED, offers__status=OfferStatus.PENDING).first(),
        "scheduled": requests.filter(status=RequestStatus.SCHEDULED).first(),
        "paused": requests.filter(status=RequestStatus.PAUSED).first(),
    }
    if chosen["scheduled"] is None:
        offer = (
            Offer.objects.filter(status=OfferStatus.PENDING)
            .exclude(request=chosen["offered"])
            .order_by("id")
            .first()
        )
        if offer is not None:
            accept_offer(offer, APPLICANT)
            chosen["scheduled"] = AppointmentRequest.objects.get(pk=offer.request_id)
    return chosen


def pages(language: str) -> list[tuple[str, str]]:
    from django.urls import reverse
    from django.utils import translation

    from guichet.appointments.models import Offer, OfferStatus
    from guichet.catalog.models import Procedure
    from guichet.public import access

    def url(name, **kwargs):
        with translation.override(language):
            return reverse(f"public:{name}", kwargs=kwargs or None)

    found = pick_requests()
    first = Procedure.objects.filter(is_active=True, is_renewal=False).order_by("id").first()
    renewal = Procedure.objects.filter(is_active=True, is_renewal=True).order_by("id").first() or first
    listed = [
        ("home", url("home")),
        ("procedures", url("procedures")),
        ("procedure", url("procedure", prefecture=first.prefecture.code, code=first.code)),
        ("file (form)", url("file", prefecture=renewal.prefecture.code, code=renewal.code)),
        ("status look-up", url("status_lookup")),
        ("verify form", url("verify_convocation_form")),
        ("accessibility", url("accessibility")),
        ("legal", url("legal")),
        ("privacy", url("privacy")),
        ("free service", url("free_service")),
    ]
    for state, request in found.items():
        if request is None:
            print(f"  (no {state} request in the demo: its page is not measured)")
            continue
        key = access.signed_key(request.reference)

        def of(name, request=request, key=key, **kwargs):
            with translation.override(language):
                return access.request_url(request.reference, key, name, **kwargs)

        listed.append((f"request ({state})", of("status_by_link")))
        if state == "waiting":
            listed += [("received", of("received")), ("contact", of("contact")), ("withdraw", of("withdraw"))]
        if state == "offered":
            offer = Offer.objects.filter(request=request, status=OfferStatus.PENDING).first()
            listed.append(("decline", of("offer_decline", offer_id=offer.pk)))
        if state == "scheduled":
            listed += [
                ("appointment", of("appointment")),
                ("cancel", of("appointment_cancel")),
                ("calendar (.ics)", of("appointment_ics")),
                ("verify (QR)", url("verify_convocation", reference=request.reference)),
            ]
        if state == "paused":
            listed.append(("reactivate", of("reactivate")))
    return listed


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def measure(client, path: str, rounds: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - began) * 1000)
    return times


def main() -> None:
    args = parse_args()
    setup(args)
    from django.conf import settings
    from django.db import connection
    from django.test import Client, override_settings
    from django.urls import path

    fill(args)
    # The pages plus one trivial view, behind the same middleware. Static files by their plain names (the
    # production manifest needs `collectstatic`, which changes nothing to page time).
    module = type(sys)("bench_urls")
    module.urlpatterns = [path("bench-trivial/", trivial), *import_module(settings.ROOT_URLCONF).urlpatterns]
    sys.modules["bench_urls"] = module
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(ROOT_URLCONF="bench_urls", STORAGES=storages, DEBUG=False):
        listed = pages(args.language)
        client = Client()
        baseline = measure(client, "/bench-trivial/", args.rounds, args.warmup)
        base_p95 = percentile(baseline, 0.95)
        print(f"\n{'page':<22} {'p50 ms':>8} {'p95 ms':>8} {'p95/baseline':>13}")
        print(f"{'(trivial view)':<22} {statistics.median(baseline):8.2f} {base_p95:8.2f} {1.0:13.1f}")
        worst = ("", 0.0)
        for name, page_path in listed:
            times = measure(client, page_path, args.rounds, args.warmup)
            p95 = percentile(times, 0.95)
            flag = "" if p95 <= TARGET_MS else "  over target"
            print(f"{name:<22} {statistics.median(times):8.2f} {p95:8.2f} {p95 / base_p95:13.1f}{flag}")
            worst = max(worst, (name, p95), key=lambda item: item[1])
    vendor = connection.vendor
    print(
        f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpu, Python "
        f"{platform.python_version()}, database {vendor}, {args.rounds} rounds per page"
    )
    print(
        f"pages={len(listed)} baseline_p95_ms={base_p95:.2f} worst={worst[0]!r} worst_p95_ms={worst[1]:.2f} "
        f"target_ms={TARGET_MS:.0f} {'OK' if worst[1] <= TARGET_MS else 'OVER'}"
    )


if __name__ == "__main__":
    main()
