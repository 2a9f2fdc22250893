"""Routing by residence (CESEDA R.431-20): the commune decides the prefecture; Paris goes to the
préfecture de police. Communes come from the shipped @etalab/decoupage-administratif extract."""

import pytest
from django.urls import reverse

from guichet.errors import InvalidInput
from guichet.residence import communes, services
from tests import factories


def test_the_dataset_is_the_shipped_extract_with_its_version():
    assert communes.source().startswith("@etalab/decoupage-administratif 6.0.0")
    assert len(communes.dataset().communes) > 34_000
    assert [c.name for c in communes.by_postal_code("93000")] == ["Bobigny"]
    assert communes.by_code("2A004").name == "Ajaccio"
    assert {c.department for c in communes.by_name("st denis")} >= {"93", "974"}


@pytest.mark.parametrize(
    ("postal_code", "department"),
    [("93200", "93"), ("75011", "75"), ("75116", "75"), ("13001", "13"), ("20000", "2A"), ("97400", "974")],
)
def test_a_postal_code_gives_the_competent_prefecture(db, postal_code, department):
    assert services.route(postal_code=postal_code).competent_code == department


def test_the_prefecture_de_police_departments_are_a_setting(db, settings):
    assert services.route(postal_code="92100").competent_code == "92"
    settings.PREFECTURE_DE_POLICE_DEPARTMENTS = ("75", "92", "93", "94")
    assert services.route(postal_code="92100").competent_code == "75"


def test_a_postal_code_across_departements_asks_for_the_commune(db):
    with pytest.raises(InvalidInput) as ambiguous:
        services.route(postal_code="05110")
    assert ambiguous.value.code == "ambiguous"
    choices = ambiguous.value.fields["commune"]
    assert len({choice.split()[0][:2] for choice in choices}) > 1
    chosen = choices[0].split()[0]
    assert services.route(commune_code=chosen).competent_code == chosen[:2]


@pytest.mark.parametrize(
    ("value", "field"), [("9300", "postal_code"), ("00000", "postal_code"), ("x" * 500, "postal_code")]
)
def test_a_bad_postal_code_is_refused_on_its_field(db, value, field):
    with pytest.raises(InvalidInput) as refused:
        services.route(postal_code=value)
    assert field in refused.value.fields


def test_the_wrong_prefecture_says_which_is_competent_and_offers_to_file_there(client, db):
    seine_saint_denis = factories.prefecture("93")
    police = factories.prefecture("75", "Préfecture de police")
    here = factories.procedure(seine_saint_denis, "first-permit")
    there = factories.procedure(police, "premier-titre", name="Premier titre")
    url = reverse("residence:check", kwargs={"prefecture": "93", "code": here.code})
    html = client.get(url, {"postal_code": "75011"}).content.decode()
    assert "another prefecture is competent" in html and "Préfecture de police" in html
    assert reverse("public:file", kwargs={"prefecture": "75", "code": there.code}) in html
    html = client.get(url, {"postal_code": "93000"}).content.decode()
    assert "this is your prefecture" in html
    response = client.get(url, {"postal_code": "05110"})
    assert "choose your commune" in response.content.decode()
    assert 'type="radio"' in response.content.decode()
    assert client.get(url, {"postal_code": "abc"}).status_code == 200
