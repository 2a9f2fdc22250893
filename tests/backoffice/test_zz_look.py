import pytest
from django.core.management import call_command
from tests.backoffice.test_letters import by_post
@pytest.mark.django_db
def test_look(world):
    by_post(world, "Benali", language="ar")
    by_post(world, "Okafor", language="en")
    call_command("print_letters", "--output", "/tmp/letters/run.pdf")
