"""Public pages kept rendered per process and language (guichet/public/kept_pages.py): the same page for
everybody, never a person's token, cookie or session, and an edit of the catalogue in the next page."""

import pytest
from django.core.cache import caches
from django.db import connection
from django.http import HttpResponse
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.urls import path

from guichet.catalog import editing
from guichet.catalog.models import Procedure
from guichet.evidence.audit import Actor
from guichet.public.kept_pages import kept
from guichet.urls import urlpatterns as application
from tests.backoffice.helpers import staff, verified_login

pytestmark = pytest.mark.django_db

MANAGER = Actor("staff", "manager-93")


def page_of(world, language="en"):
    return f"/{language}/procedures/{world.prefecture.code}/{world.procedures['first'].code}/"


def test_the_home_page_is_rendered_once_per_language(client, django_assert_num_queries):
    french = client.get("/fr/")
    with django_assert_num_queries(0):
        again = client.get("/fr/")
    assert again.content == french.content
    arabic = client.get("/ar/").content.decode()
    assert 'lang="ar" dir="rtl"' in arabic
    assert 'lang="fr" dir="ltr"' in french.content.decode()


def test_a_kept_page_gets_its_headers_for_each_request(client):
    first = client.get("/en/")
    second = client.get("/en/")
    for answer in (first, second):
        assert "Content-Security-Policy" in answer
        assert answer["Content-Language"] == "en"
        assert answer["Content-Type"].startswith("text/html")


def test_a_kept_procedure_page_costs_one_short_read(client, world):
    first = client.get(page_of(world))
    assert first.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        again = client.get(page_of(world))
    assert again.content == first.content
    assert [query["sql"] for query in queries.captured_queries] == [
        "SELECT stamp FROM catalog_catalogueversion WHERE id = 1"
    ]


def test_a_manager_s_edit_is_in_the_next_procedure_page(client, world):
    assert "First permit" in client.get(page_of(world)).content.decode()
    procedure = Procedure.objects.get(pk=world.procedures["first"].pk)
    procedure.name = "Première demande de titre"
    editing.save(procedure, actor=MANAGER, changed_fields=["name"])
    assert "Première demande de titre" in client.get(page_of(world)).content.decode()


def test_a_page_with_a_query_string_is_rendered_for_it(client):
    client.get("/en/")
    answer = client.get("/en/?from=leaflet").content.decode()
    # The language links keep the query string of the page they are on.
    assert 'href="/fr/?from=leaflet"' in answer


def test_a_staff_member_gets_a_page_of_their_own_and_leaves_nothing_kept(client, world):
    verified_login(client, staff(world.prefecture, "manager"))
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page_of(world)).status_code == 200
        # Their session, then the page rendered again for them.
        assert len(queries.captured_queries) > 1
    assert not caches["pages"]._cache  # nothing of theirs kept


FORM = engines["django"].from_string("<form method=post>{% csrf_token %}</form>")


@kept(60)
def form_page(request):
    return HttpResponse(FORM.render({}, request))


urlpatterns = [path("kept-form/", form_page), *application]


@pytest.mark.urls("tests.public.test_kept_pages")
def test_a_page_with_a_csrf_token_is_never_kept(client):
    first = client.get("/kept-form/")
    other = type(client)()
    second = other.get("/kept-form/")
    tokens = [answer.content.decode().split('value="')[1].split('"')[0] for answer in (first, second)]
    assert tokens[0] != tokens[1]
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
