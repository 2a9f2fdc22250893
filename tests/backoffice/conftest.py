"""Pages in English in these tests (/en/…): assertions read the English messages, whatever the French
translation says. Staff jobs' results go to a temporary folder."""

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def staff_job_files(settings, tmp_path):
    root = tmp_path / "staff-job-files"
    settings.STORAGES = {
        **settings.STORAGES,
        "staff_jobs": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": root, "base_url": None},
        },
    }
    return root
