"""The catalogue kept per process (guichet/catalog/cached.py) under the stamp the database changes on every
catalogue write (guichet/catalog/versioning.py): kept between requests, and an edit is seen by the next
request, whatever wrote it."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from guichet.catalog import cached, editing, versioning
from guichet.catalog.models import Counter, OpeningRule, Procedure, Site
from guichet.evidence.audit import Actor
from guichet.waitlist.models import AppointmentRequest
from tests import factories

pytestmark = pytest.mark.django_db

MANAGER = Actor("staff", "manager-93")


def filing(world, family_names="Haddad", procedure="first"):
    return {
        "prefecture": world.prefecture.code,
        "procedure": world.procedures[procedure].code,
        "family_names": family_names,
        "given_names": "Nour",
        "birth_date": "1990-04-05",
        "nationality": "LB",
        "email": "nour@example.org",
        "language": "en",
    }


def file(client, body):
    return client.post("/api/v1/requests", body, content_type="application/json")


def catalogue_reads(queries) -> list[str]:
    tables = [f'"{table}"' for table in versioning.VERSIONED_TABLES]
    return [
        query["sql"]
        for query in queries
        if query["sql"].lstrip().upper().startswith("SELECT")
        and any(table in query["sql"] for table in tables)
    ]


def test_every_catalogue_table_has_its_version_trigger():
    assert versioning.installed_triggers() == set(versioning.VERSIONED_TABLES)


@pytest.mark.parametrize(
    "write",
    [
        lambda world: factories.procedure(world.prefecture, "duplicate"),
        lambda world: Procedure.objects.filter(pk=world.procedures["first"].pk).update(name="Autre"),
        lambda world: Site.objects.filter(pk=world.sites[1].pk).update(is_active=False),
        lambda world: Counter.objects.filter(pk=world.counters[0].pk).update(languages=["tr"]),
        lambda world: OpeningRule.objects.first().procedures.remove(world.procedures["first"]),
        lambda world: world.procedures["renewal"].delete(),
    ],
    ids=["insert", "update", "site", "counter", "many-to-many", "delete"],
)
def test_every_kind_of_catalogue_write_changes_the_stamp(world, write):
    before = versioning.current_stamp()
    write(world)
    assert versioning.current_stamp() not in (before, None)


def test_a_rolled_back_write_leaves_the_stamp_it_found(world):
    before = versioning.current_stamp()
    with pytest.raises(RuntimeError), transaction.atomic():
        Procedure.objects.filter(pk=world.procedures["first"].pk).update(name="Jamais")
        assert versioning.current_stamp() != before
        raise RuntimeError("roll back")
    assert versioning.current_stamp() == before


def test_a_filing_reads_no_catalogue_table_once_the_process_keeps_it(client, world):
    # The first filing also publishes the procedure's first list of documents: a catalogue write.
    for name in ("Haddad", "Saad"):
        assert file(client, filing(world, name)).status_code == 201
    with CaptureQueriesContext(connection) as queries:
        assert file(client, filing(world, "Khoury")).status_code == 201
    assert catalogue_reads(queries.captured_queries) == []
    # One read of the stamp instead.
    assert sum(versioning.VERSION_TABLE in query["sql"] for query in queries.captured_queries) == 1


def test_a_procedure_closed_by_a_manager_refuses_the_next_filing(client, world):
    assert file(client, filing(world, "Haddad")).status_code == 201
    closed = Procedure.objects.get(pk=world.procedures["first"].pk)
    closed.is_active = False
    editing.save(closed, actor=MANAGER, changed_fields=["is_active"])
    answer = file(client, filing(world, "Khoury"))
    assert answer.status_code == 422
    assert "no longer takes requests" in answer.json()["fields"]["procedure"][0]
    assert not AppointmentRequest.objects.filter(family_names="Khoury").exists()


def test_a_new_list_of_documents_is_the_one_the_next_request_keeps(client, world):
    assert file(client, filing(world, "Haddad")).status_code == 201
    first = AppointmentRequest.objects.get(family_names="Haddad").checklist_version
    procedure = Procedure.objects.get(pk=world.procedures["first"].pk)
    procedure.documents = ["Passeport", "Justificatif de domicile de moins de 3 mois"]
    editing.save(procedure, actor=MANAGER, changed_fields=["documents"])
    assert file(client, filing(world, "Khoury")).status_code == 201
    second = AppointmentRequest.objects.get(family_names="Khoury").checklist_version
    assert second.number == first.number + 1
    assert second.documents == procedure.documents


def test_the_procedure_page_shows_an_edit_at_the_next_request(client, world):
    page = f"/en/procedures/{world.prefecture.code}/{world.procedures['first'].code}/"
    assert "Le Raincy" in client.get(page).content.decode()
    annex = Site.objects.get(pk=world.sites[1].pk)
    annex.is_active = False
    editing.save(annex, actor=MANAGER, changed_fields=["is_active"])
    assert "Le Raincy" not in client.get(page).content.decode()
    Procedure.objects.filter(pk=world.procedures["first"].pk).update(is_active=False)
    assert client.get(page).status_code == 404


def test_callers_get_copies_and_outside_a_request_every_read_is_fresh(world):
    code = world.prefecture.code
    with cached.per_request():
        kept = cached.prefecture(code)
        kept.name = "changed by a caller"
        assert cached.prefecture(code).name != "changed by a caller"
    world.prefecture.name = "Préfecture renommée"
    world.prefecture.save()
    with CaptureQueriesContext(connection) as queries:
        assert cached.prefecture(code).name == "Préfecture renommée"
    assert versioning.VERSION_TABLE not in " ".join(query["sql"] for query in queries.captured_queries)


def test_a_caller_changing_a_list_or_a_related_object_leaves_the_kept_one_as_it_was(world):
    procedure = world.procedures["first"]
    procedure.documents = [{"code": "passport", "label": "Passeport"}]
    procedure.save()
    code = world.prefecture.code
    with cached.per_request():
        first = cached.public_procedure(code, procedure.code)
        first.documents.append({"code": "added", "label": "Ajouté par un appelant"})
        first.documents[0]["label"] = "changé"
        first.prefecture.name = "changed by a caller"
        again = cached.public_procedure(code, procedure.code)
        assert again.documents == [{"code": "passport", "label": "Passeport"}]
        assert again.prefecture.name == world.prefecture.name
        assert again is not first and again.prefecture is not first.prefecture
        assert again.pk == procedure.pk and not again._state.adding
