"""The tribunal table: every département maps to exactly one tribunal; residence read from the postal code."""

import json

import pytest

from guichet.catalog import territory
from guichet.evidence import tribunals
from tests import factories

from .helpers import make_request

DEPARTEMENTS = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B", "971", "972", "973", "974", "976"]


def test_the_table_has_the_42_tribunals():
    table = tribunals.tribunals()
    assert len(table) == 42
    assert len({t.id for t in table}) == 42
    overseas = [
        t for t in table if all(code[:2] in {"97", "98"} for code in (*t.departements, *t.territories))
    ]
    assert len(overseas) == 11  # and so 31 in mainland France
    for tribunal in table:
        assert tribunal.name.startswith("Tribunal administratif")
        assert tribunal.address and any(char.isdigit() for char in tribunal.address[-1])


def test_every_departement_maps_to_exactly_one_tribunal():
    assert len(DEPARTEMENTS) == 101
    assert all(territory.is_department_code(code) for code in DEPARTEMENTS)
    raw = json.loads(tribunals.DATA_FILE.read_text(encoding="utf-8"))["tribunals"]
    for code in DEPARTEMENTS:
        covering = [t["id"] for t in raw if code in t["departements"]]
        assert len(covering) == 1, (code, covering)
    listed = [code for t in raw for code in t["departements"]]
    assert sorted(listed) == sorted(DEPARTEMENTS)  # nothing else, nothing twice


@pytest.mark.parametrize(
    ("departement", "seat"),
    [
        ("75", "Paris"),
        ("93", "Montreuil"),
        ("77", "Melun"),
        ("94", "Melun"),
        ("92", "Cergy-Pontoise"),
        ("95", "Cergy-Pontoise"),
        ("78", "Versailles"),
        ("91", "Versailles"),
        ("83", "Toulon"),
        ("30", "Nîmes"),
        ("48", "Nîmes"),
        ("84", "Nîmes"),
        ("976", "Mamoudzou"),
        ("2A", "Bastia"),
        ("57", "Strasbourg"),
        ("974", "Saint-Denis"),
    ],
)
def test_known_territories(departement, seat):
    assert tribunals.tribunal_for_department(departement).seat == seat


@pytest.mark.parametrize(
    ("postal_code", "departement"),
    [
        ("75011", "75"),
        ("93100", "93"),
        ("01000", "01"),
        ("20000", "2A"),
        ("20167", "2A"),
        ("20200", "2B"),
        ("20600", "2B"),
        ("97110", "971"),
        ("97133", "977"),
        ("97150", "978"),
        ("97600", "976"),
        ("98800", "988"),
        ("00000", None),
        ("20900", None),
        ("9310", None),
        ("ABCDE", None),
    ],
)
def test_postal_codes(postal_code, departement):
    assert tribunals.department_for_postal_code(postal_code) == departement


@pytest.mark.parametrize(
    ("address", "postal_code"),
    [
        ("12 rue de Paris\n93100 Montreuil", "93100"),
        ("Chez M. Diallo, 3 allée des Tilleuls, 94200 Ivry-sur-Seine", "94200"),
        ("Résidence 12345, bâtiment B\n20090 Ajaccio", "20090"),
        ("CS 90129\n63033 Clermont-Ferrand Cedex 1", "63033"),
        ("Tél. 0612345678, 75011 Paris", "75011"),
        ("", None),
        ("Foyer Adoma, Saint-Denis", None),
    ],
)
def test_postal_code_in_an_address(address, postal_code):
    assert tribunals.postal_code_in(address) == postal_code


def test_competent_tribunal_is_that_of_the_residence(world):
    request, _ = make_request(world, postal_address="5 rue Jean Jaurès\n94200 Ivry-sur-Seine")
    competence = tribunals.competent_tribunal(request)
    assert competence.tribunal.id == "melun" and competence.from_address and competence.department == "94"


def test_without_a_usable_address_the_prefecture_stands_in(world):
    request, _ = make_request(world, postal_address="")
    competence = tribunals.competent_tribunal(request)
    assert competence.tribunal.id == "montreuil" and not competence.from_address
    corsica = factories.world("2B")
    request, _ = make_request(corsica, postal_address="lieu-dit sans code")
    assert tribunals.competent_tribunal(request).tribunal.id == "bastia"
