"""Two transfers in opposite directions at the same moment (93 → 75 and 75 → 93), with real parallel
transactions on PostgreSQL. Each appends to both prefectures' audit chains; with one strand per chain
(AUDIT_CHAIN_STRANDS=1, or every strand busy) they would each hold one head and wait for the other's.
The transfer locks both heads in code order first: both complete. The control, without that order,
shows the deadlock PostgreSQL breaks by aborting one of them."""

from __future__ import annotations

import threading

import pytest

from guichet.evidence.audit import Actor, verify_chain
from guichet.residence import services
from guichet.waitlist.models import RequestStatus
from tests import factories
from tests.appointments.test_concurrency import race
from tests.backoffice.helpers import file

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

AGENT = Actor("staff", label="agent")


@pytest.fixture
def crossing(settings):
    settings.AUDIT_CHAIN_STRANDS = 1
    world = factories.World(factories.prefecture("93"))
    world.procedures["first"] = factories.procedure(world.prefecture, "first-permit")
    police = factories.prefecture("75", "Préfecture de police")
    police_world = factories.World(police, procedures={"first": factories.procedure(police, "premier-titre")})
    leaving_93 = file(world, family="Diallo")
    leaving_75 = file(police_world, family="Nguyen")
    return [(leaving_93, "75011"), (leaving_75, "93200")]


@pytest.fixture
def meet_halfway(monkeypatch):
    """Hold each transfer, once its old request is closed (its own chain's head taken), until the other
    has got as far, or for two seconds: the moment a deadlock needs, made certain."""
    barrier = threading.Barrier(2, timeout=2)
    copy_into = services._copy_into

    def held(*args, **kwargs):
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass  # the other transfer is waiting for this one's lock: go on
        return copy_into(*args, **kwargs)

    monkeypatch.setattr(services, "_copy_into", held)


def _transfer(crossing):
    def run(index: int):
        request, postal_code = crossing[index]
        return services.transfer_request(
            request, postal_code=postal_code, reason="Déménagement", actor=AGENT
        ).to_request.prefecture.code

    return run


def test_two_transfers_in_opposite_directions_both_complete(crossing, meet_halfway):
    results = race(2, _transfer(crossing))
    assert sorted(results) == [("won", "75"), ("won", "93")], results
    for request, _postal_code in crossing:
        request.refresh_from_db()
        assert request.status == RequestStatus.CLOSED
    assert verify_chain("93") == [] and verify_chain("75") == []


def test_control_without_the_fixed_order_they_deadlock(crossing, meet_halfway, monkeypatch):
    monkeypatch.setattr(services, "lock_chains", lambda *chains: None)
    results = race(2, _transfer(crossing))
    errors = [value for kind, value in results if kind == "error"]
    assert len(errors) == 1 and "deadlock detected" in errors[0], results
    assert [kind for kind, _value in results].count("won") == 1
