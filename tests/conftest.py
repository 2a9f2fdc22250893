"""Fixtures shared by every test package: a small prefecture with sites, counters, procedures, rules."""

import logging

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from guichet.evidence.services import forget_published_keys
from tests import factories
from tests.browser import chromium, open_page, skip_without_chromium  # noqa: F401 (fixtures, once)

# Property tests check what holds, not how fast: on a busy CI machine (two test workers beside the
# suite's own servers) one example may take more than hypothesis's 200 ms deadline, or generating
# examples may seem slow. Timing is the benchmarks' business (bench/).
hypothesis_settings.register_profile("guichet", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("guichet")


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit counters and cached figures live in the cache, rendered public pages in their own (kept
    # per process), and what the process saw of the published signing keys in memory: each test starts
    # with none.
    for each in (cache, caches["pages"]):
        each.clear()
    forget_published_keys()
    yield
    for each in (cache, caches["pages"]):
        each.clear()
    forget_published_keys()


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def weasyprint_errors():
    """Every PDF a test makes passes WeasyPrint's PDF/UA checks: an error it reports while rendering (an
    image without a text alternative, a resource it refused to fetch) fails the test. A test that causes
    one on purpose empties the list."""
    handler = _Records()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)
    assert not handler.records, [record.getMessage() for record in handler.records]


@pytest.fixture
def prefecture(db):
    return factories.prefecture()


@pytest.fixture
def world(db):
    """A prefecture with two sites, counters, the usual procedures and weekday opening rules."""
    return factories.world()


def pytest_collection_modifyitems(config, items):
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    skip = pytest.mark.skip(
        reason="needs PostgreSQL (real parallel transactions, triggers, exclusion constraints): "
        "run `make test` with PostgreSQL on 127.0.0.1:5432 or TEST_DATABASE_URL"
    )
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)
    skip_without_chromium(items)
