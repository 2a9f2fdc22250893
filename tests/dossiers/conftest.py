"""Dossier tests: files go to a temporary folder; pages in English unless a test says otherwise."""

import pytest
from django.utils import translation

from tests import factories
from tests.backoffice.helpers import file

from . import helpers


@pytest.fixture(autouse=True)
def dossier_storage(settings, tmp_path):
    root = tmp_path / "dossier-files"
    settings.STORAGES = {
        **settings.STORAGES,
        "dossiers": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": root}},
    }
    settings.CLAMD_SOCKET = ""
    return root


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def catalogue(db):
    world = factories.World(factories.prefecture("93"))
    world.procedures["first"] = factories.procedure(world.prefecture, "first-permit")
    return world


@pytest.fixture
def form(catalogue):
    return helpers.standard_form(catalogue.procedures["first"])


@pytest.fixture
def filed(catalogue, form):
    """A request filed after the form was published (language Arabic, email and phone)."""
    return file(catalogue, language="ar", phone="+33612345678", family="Haddad", given="Amina")


def stored_files(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []
