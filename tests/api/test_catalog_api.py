"""API v1 catalogue: the procedures and sites a request may name."""

import pytest

from tests import factories
from tests.waitlist.intake_helpers import catalogue

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return catalogue()


def test_procedures_of_a_prefecture(client, world):
    factories.procedure(catalogue_other(), "elsewhere")
    retired = factories.procedure(world.prefecture, "retired", is_active=False)
    response = client.get("/api/v1/procedures?prefecture=93")
    assert response.status_code == 200
    procedures = {item["code"]: item for item in response.json()}
    assert set(procedures) == {"first-permit", "renewal", "collection"}
    assert retired.code not in procedures
    renewal = procedures["renewal"]
    assert renewal["is_renewal"] is True and renewal["kind"] == "renewal"
    assert (renewal["renewal_window_opens_days"], renewal["renewal_window_closes_days"]) == (120, 60)
    assert procedures["first-permit"]["renewal_window_opens_days"] is None
    assert procedures["collection"]["mode"] == "open"
    assert isinstance(procedures["first-permit"]["documents"], list)


def test_sites_of_a_prefecture(client, world):
    closed = factories.site(world.prefecture, "Closed annex", is_active=False)
    response = client.get("/api/v1/sites", {"prefecture": "93"})
    assert response.status_code == 200
    sites = response.json()
    assert [site["name"] for site in sites] == ["Bobigny", "Le Raincy"]
    assert closed.pk not in [site["id"] for site in sites]
    bobigny = sites[0]
    assert bobigny["id"] == world.sites[0].pk and bobigny["step_free"] is True
    assert bobigny["postal_code"] == "93000" and bobigny["latitude"] is None


@pytest.mark.parametrize("path", ["/api/v1/procedures", "/api/v1/sites"])
def test_prefecture_is_required_and_must_exist(client, world, path):
    missing = client.get(path)
    assert missing.status_code == 422
    assert "prefecture" in missing.json()["fields"]
    unknown = client.get(path, {"prefecture": "99"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_prefecture"
    long = client.get(path, {"prefecture": "9" * 10_000})
    assert long.status_code == 422 and long.json()["code"] == "invalid"


def test_corsica_and_overseas_codes(client, db):
    catalogue("2A")
    response = client.get("/api/v1/sites?prefecture=2a")
    assert response.status_code == 200 and len(response.json()) == 2


def catalogue_other():
    return factories.prefecture("75", "Préfecture de police")
