import pytest

from tests.waitlist.intake_helpers import catalogue


@pytest.fixture
def world(db):
    """Overrides the shared `world`: intake needs sites and procedures, not counters and opening rules."""
    return catalogue()
