"""The procedure page's and the status page's estimates start from the real queue: after the slots already
given, never before the person's earliest date or a renewal's filing window, at the sites that suit them."""

import datetime
import math

import pytest
from django.utils import timezone

from guichet.allocation.service import allocate
from guichet.appointments.models import Offer
from guichet.capacity.models import Slot
from guichet.public import estimates
from guichet.waitlist.models import AppointmentRequest
from tests.appointments import builders
from tests.public import scenario as scenarios

pytestmark = pytest.mark.django_db


def _hold_every_slot_before(world, procedure, site, moment):
    """Give every free slot of the procedure at the site before `moment` (offers being made)."""
    held = 0
    for slot in Slot.objects.filter(
        rule__procedures=procedure, counter__site=site, hold__isnull=True, starts_at__lt=moment
    ):
        builders.offer(builders.request(world, sites=(site,)), slot)
        held += 1
    return held


def test_the_offer_horizon_is_where_offers_are_being_made(world):
    # Offers were seven weeks out while the page said "about 4 days": it divided the few waiting requests
    # by the weekly rate, ignoring that every slot of the coming weeks was already given.
    first = world.procedures["first"]
    raincy = world.sites[1]
    scenarios.generate_slots(world, weeks=8)
    six_weeks = timezone.now() + datetime.timedelta(weeks=6)
    assert _hold_every_slot_before(world, first, raincy, six_weeks) > 50
    scenarios.file(world, "first", sites=[str(raincy.pk)])
    estimate = estimates.expected_wait(first, raincy)
    assert estimate.waiting == 1
    assert estimate.offer_in_published
    assert estimate.offer_days >= (six_weeks - timezone.now()).days


def test_the_procedure_estimate_is_the_day_the_allocation_then_offers(world):
    first = world.procedures["first"]
    raincy = world.sites[1]
    scenarios.generate_slots(world, weeks=4)
    for _ in range(40):  # more than a week of Le Raincy's first-permit slots
        scenarios.file(world, "first", sites=[str(raincy.pk)])
    estimate = estimates.expected_wait(first, raincy)
    newcomer = scenarios.file(world, "first", sites=[str(raincy.pk)])
    allocate(world.prefecture)
    offer = Offer.objects.get(request=newcomer.request)
    offered_on = offer.slot.starts_at.astimezone(raincy.tzinfo).date()
    assert estimate.offer_days == (offered_on - timezone.localdate()).days
    assert estimate.offer_days >= 7


def test_past_the_published_slots_the_wait_goes_on_at_the_weekly_rate(world):
    first = world.procedures["first"]
    raincy = world.sites[1]
    scenarios.generate_slots(world, weeks=2)
    held = _hold_every_slot_before(world, first, raincy, timezone.now() + datetime.timedelta(weeks=3))
    for _ in range(30):
        scenarios.file(world, "first", sites=[str(raincy.pk)])
    estimate = estimates.expected_wait(first, raincy)
    assert held > 0 and not estimate.offer_in_published
    last = Slot.objects.filter(rule__procedures=first, counter__site=raincy).order_by("-starts_at").first()
    after_last = (last.starts_at.astimezone(raincy.tzinfo).date() - timezone.localdate()).days
    # The 30 waiting and the newcomer, at the weekly rate, after the last published slot.
    assert estimate.offer_days == after_last + math.ceil(31 / estimate.weekly_slots * 7)


def test_a_waiting_renewal_is_not_promised_a_date_before_its_window_opens(world):
    renewal = world.procedures["renewal"]
    scenarios.generate_slots(world, weeks=3)
    expires = timezone.localdate() + datetime.timedelta(days=renewal.renewal_window_opens_days + 30)
    filed = scenarios.file(world, "renewal", permit_expires_on=expires.isoformat())
    request = AppointmentRequest.objects.get(pk=filed.request.pk)
    window = estimates.turn_window(request, 1)
    assert window is not None
    assert window.earliest >= expires - datetime.timedelta(days=renewal.renewal_window_opens_days)


def test_a_step_free_need_counts_only_the_sites_with_step_free_access(world):
    first = world.procedures["first"]
    scenarios.generate_slots(world, weeks=3)
    filed = scenarios.file(world, "first", needs_step_free=True)
    request = AppointmentRequest.objects.get(pk=filed.request.pk)
    window = estimates.turn_window(request, 1, sites=[])
    bobigny_only = estimates.weekly_slots(first, [world.sites[0]])
    assert window is not None and window.weekly_slots == pytest.approx(bobigny_only)
