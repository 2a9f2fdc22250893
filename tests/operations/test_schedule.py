"""Every periodic job names a management command that exists and runs once without error."""

import pytest
from django.core.management import call_command, get_commands

from guichet.operations.schedule import JOBS


def test_every_job_is_a_management_command():
    commands = get_commands()
    missing = [job.command for job in JOBS if job.command not in commands]
    assert missing == []


@pytest.mark.django_db
@pytest.mark.parametrize("job", JOBS, ids=lambda job: job.command)
def test_every_job_runs_on_a_living_prefecture(world, job):
    # The clock runs each job in its own process; here each runs in-process against the test database.
    call_command(job.command, *job.args)
