"""Fixtures of the applicant's pages: a scenario with a request in every state, both skins (the cache is
emptied around every test by tests/conftest.py)."""

import pytest

from tests.public import scenario as scenarios


@pytest.fixture
def scenario(world):
    return scenarios.build(world)


@pytest.fixture(params=["neutral", "dsfr"])
def skin(request, settings):
    settings.GUICHET_SKIN = request.param
    return request.param
