"""Fixtures of the applicant's pages: a scenario with a request in every state, both skins, a clean cache."""

import pytest
from django.core.cache import cache

from tests.public import scenario as scenarios


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Rate-limit counters live in the cache: each test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def scenario(world):
    return scenarios.build(world)


@pytest.fixture(params=["neutral", "dsfr"])
def skin(request, settings):
    settings.GUICHET_SKIN = request.param
    return request.param
