"""The demo prefecture publishes its forms once; a demo request then has questions to answer."""

from guichet.catalog.demo import FIRST, build_demo_prefecture
from guichet.dossiers import services
from guichet.dossiers.demo import build_demo_forms
from tests import factories
from tests.backoffice.helpers import file


def test_the_demo_forms_are_published_once(db):
    prefecture = build_demo_prefecture()
    assert build_demo_forms(prefecture) == 2
    assert build_demo_forms(prefecture) == 0
    world = factories.World(prefecture, procedures={"first": prefecture.procedures.get(code=FIRST)})
    dossier = services.dossier_for(file(world))
    assert [q.key for q in services.asked_questions(dossier)] == ["date-entree", "marie", "adresse"]
    assert len(services.items(dossier)) == len(prefecture.procedures.get(code=FIRST).documents)
