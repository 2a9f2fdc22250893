"""Pages in English in these tests (/en/…): assertions read the English messages, whatever the French
translation says."""

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield
