"""The procedure page's and the status page's estimates start from the real queue: after the slots already
given, never before the person's earliest date or a renewal's filing window, at the sites that suit them."""

import datetime

import pytest
from django.utils import timezone

from guichet.capacity.models import Slot
from guichet.public import estimates
from guichet.waitlist.models import AppointmentRequest
from tests.public import scenario as scenarios

pytestmark = pytest.mark.django_db


def test_the_queue_is_served_after_the_slots_already_given(world):
    # Offers were seven weeks out while the page said "about 4 days": it ignored the slots already given.
    first = world.procedures["first"]
    raincy = world.sites[1]
    scenarios.generate_slots(world, weeks=7)
    booked = scenarios.file(world, "first", sites=[str(raincy.pk)])
    far = (
        Slot.objects.filter(rule__procedures=first, counter__site=raincy, hold__isnull=True)
        .filter(starts_at__gt=timezone.now() + datetime.timedelta(weeks=6))
        .order_by("starts_at")
        .first()
    )
    scenarios.schedule(booked, far)
    scenarios.file(world, "first", sites=[str(raincy.pk)])
    estimate = estimates.expected_wait(first, raincy)
    assert estimate.waiting == 1
    assert estimate.queue_days >= (far.starts_at - timezone.now()).days


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
