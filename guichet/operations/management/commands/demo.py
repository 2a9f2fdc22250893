"""Build (or complete) the demo: the Seine-Saint-Denis prefecture, its slots, staff, a queue and offers.

Re-runnable: each step creates only what is missing. `make run` calls it before starting the server.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from guichet.accounts.demo import create_demo_staff
from guichet.allocation.lateness import late_while_free
from guichet.allocation.service import allocate, stranded
from guichet.appointments.models import Appointment, Offer, OfferStatus
from guichet.capacity.models import Slot
from guichet.capacity.services import free_slots_query, generate_slots
from guichet.catalog.demo import build_demo_prefecture
from guichet.catalog.models import Counter, OpeningRule, Prefecture, Procedure, Site
from guichet.dossiers.demo import build_demo_forms
from guichet.notifications.links import convocation_verify_url
from guichet.reception.demo import convoke_today
from guichet.waitlist.demo import file_synthetic_requests
from guichet.waitlist.models import AppointmentRequest, RequestStatus

MAX_REQUESTS = 1_000_000


def count(text: str, option: str, maximum: int) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise CommandError(f"{option}: “{text}” is not a whole number.") from None
    if not 0 <= value <= maximum:
        raise CommandError(f"{option}: give a number from 0 to {maximum}, not {value}.")
    return value


class Command(BaseCommand):
    help = "Loads the demo prefecture (93) with its slots, staff accounts, a synthetic queue and offers."

    def add_arguments(self, parser):
        parser.add_argument(
            "--requests",
            default="2000",
            metavar="N",
            help="synthetic requests to file (default 2000; 0: none)",
        )
        parser.add_argument(
            "--seed", default="1", metavar="S", help="seed of the synthetic requests (default 1)"
        )

    def handle(self, *args, requests: str, seed: str, **options):
        requests_wanted = count(requests, "--requests", MAX_REQUESTS)
        seed_value = count(seed, "--seed", 2**31 - 1)
        prefecture = self.step("catalogue", self.catalogue)
        self.step("slots", self.slots, prefecture)
        self.step("procedure forms", self.forms, prefecture)
        self.step("staff accounts", self.staff, prefecture)
        self.step("synthetic requests", self.requests, prefecture, requests_wanted, seed_value)
        self.step("allocation", self.allocate, prefecture)
        self.step("today at reception", self.today, prefecture)
        self.summary(prefecture)

    def step(self, title: str, function, *args):
        self.stdout.write(self.style.MIGRATE_HEADING(f"{title}…"))
        began = time.perf_counter()
        result = function(*args)
        self.stdout.write(f"  done in {time.perf_counter() - began:.2f} s")
        return result

    def skipped(self, reason: str) -> None:
        self.stdout.write(self.style.WARNING(f"  skipped: {reason}"))

    def catalogue(self) -> Prefecture:
        prefecture = build_demo_prefecture()
        self.stdout.write(f"  {prefecture}")
        return prefecture

    def forms(self, prefecture: Prefecture) -> None:
        self.stdout.write(f"  {build_demo_forms(prefecture)} forms published")

    def slots(self, prefecture: Prefecture) -> None:
        report = generate_slots(prefecture)
        self.stdout.write(f"  {report.summary()}")

    def staff(self, prefecture: Prefecture) -> None:
        accounts = create_demo_staff(prefecture)
        width = max((len(username) for username, _password, _role in accounts), default=0)
        for username, password, role in accounts:
            self.stdout.write(f"  {username.ljust(width)}  {password}  ({role})")
        self.stdout.write("  second factor: `python manage.py staff_totp <username>` prints the current code")

    def requests(self, prefecture: Prefecture, wanted: int, seed: int) -> None:
        if wanted == 0:
            return self.skipped("--requests 0")
        filed = file_synthetic_requests(prefecture, wanted, seed)
        self.stdout.write(f"  {filed} requests filed")

    def allocate(self, prefecture: Prefecture) -> None:
        self.stdout.write(f"  {allocate(prefecture)}")

    def today(self, prefecture: Prefecture) -> None:
        appointments = convoke_today(prefecture)
        if not appointments:
            return self.skipped("no free slot is left today (a weekend, or after hours)")
        site = appointments[0].counter.site
        self.stdout.write(f"  reception desk: /fr/staff/{prefecture.code}/reception/sites/{site.pk}/")
        self.stdout.write(f"  waiting-room screen: /fr/display/{site.pk}/")
        self.stdout.write(
            "  what each convocation's QR code carries (type or scan it into the desk's field):"
        )
        for appointment in appointments:
            when = timezone.localtime(appointment.starts_at, site.tzinfo)
            self.stdout.write(
                f"    {when:%H:%M} {appointment.counter.name}: {convocation_verify_url(appointment)}"
            )

    def summary(self, prefecture: Prefecture) -> None:
        now = timezone.now()
        today = now.astimezone(prefecture.tzinfo).date()
        late = AppointmentRequest.objects.filter(
            prefecture=prefecture, status=RequestStatus.WAITING, due_date__lt=today
        )
        future = Slot.objects.filter(counter__site__prefecture=prefecture, starts_at__gte=now)
        figures = [
            ("sites", Site.objects.filter(prefecture=prefecture).count()),
            ("counters", Counter.objects.filter(site__prefecture=prefecture).count()),
            ("procedures", Procedure.objects.filter(prefecture=prefecture).count()),
            ("opening rules", OpeningRule.objects.filter(counter__site__prefecture=prefecture).count()),
            ("future slots", future.count()),
            ("free future slots", free_slots_query(prefecture, after=now).count()),
            ("requests", AppointmentRequest.objects.filter(prefecture=prefecture).count()),
            ("offers", Offer.objects.filter(request__prefecture=prefecture).count()),
            ("appointments", Appointment.objects.filter(request__prefecture=prefecture).count()),
            ("interpreters to book", _interpreters_to_book(prefecture)),
            ("waiting past due", late.count()),
            ("of which a free slot suits", sum(1 for r in stranded(prefecture, now) if r.due_date < today)),
            ("late while a slot suits them", len(late_while_free(prefecture, now))),
        ]
        self.stdout.write(self.style.MIGRATE_HEADING("summary"))
        for label, value in figures:
            self.stdout.write(f"  {label:<28} {value}")


def _interpreters_to_book(prefecture: Prefecture) -> int:

    # Pending offers whose counter does not speak the person's language: an interpreter is to be booked.
    return Offer.objects.filter(
        request__prefecture=prefecture, status=OfferStatus.PENDING, interpreter_language__gt=""
    ).count()
