"""GUICHET_SKIN=dsfr works with the static files collected under either skin: no collectstatic to rerun."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_a_collection_made_under_the_neutral_skin_serves_the_dsfr_skin(tmp_path, settings, client, world):
    # Before, the dsfr app's files were collected only when the skin was already dsfr: switching the
    # setting made every page fail with "Missing staticfiles manifest entry" (500).
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "dsfr"]  # as in production
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    settings.GUICHET_SKIN = "neutral"
    call_command("collectstatic", "--noinput", verbosity=0)
    settings.GUICHET_SKIN = "dsfr"
    response = client.get("/fr/")
    assert response.status_code == 200
    assert "core.main.min." in response.content.decode()
