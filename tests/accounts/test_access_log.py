"""Who read which file (R27): openings, searches and queue listings by staff and partners are logged, from
the pages and the API; managers see them on the file; they are purged after the retention time."""

import datetime

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from guichet.accounts.models import AccessRecord
from guichet.accounts.services import create_api_token, purge_access_records, record_access
from guichet.partners import services as partners
from tests.api.test_staff_api import Api
from tests.backoffice.helpers import file, partner, staff, verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_(world):
    return file(world, family="Benali", given="Amina", birth="1988-02-03")


def records(**filters):
    return list(
        AccessRecord.objects.filter(**filters).order_by("id").values_list("kind", "channel", "detail")
    )


def test_opening_a_file_on_the_staff_pages_is_logged(client, world, request_):
    agent = staff(world.prefecture, username="agent-a")
    verified_login(client, agent)
    url = reverse("backoffice:request", args=[request_.reference])
    assert client.get(url).status_code == 200
    assert records(user=agent, request=request_) == [("opened", "page", "")]
    assert AccessRecord.objects.get().prefecture == world.prefecture
    # Each opening is one more line: the log says how often, not only whether.
    client.get(url)
    assert AccessRecord.objects.filter(user=agent, request=request_).count() == 2


def test_a_file_one_may_not_see_logs_nothing(client, world, request_):
    from tests import factories

    elsewhere = factories.prefecture(code="75")
    outsider = staff(elsewhere, username="agent-paris")
    verified_login(client, outsider)
    assert client.get(reverse("backoffice:request", args=[request_.reference])).status_code == 404
    assert not AccessRecord.objects.exists()


def test_searches_and_the_queue_are_logged_with_what_was_asked(client, world, request_):
    agent = staff(world.prefecture, username="agent-b")
    verified_login(client, agent)
    client.get(reverse("backoffice:search"), {"q": "benali   amina"})
    client.get(reverse("backoffice:queue", args=[world.prefecture.code]))
    assert records(user=agent) == [("searched", "page", "benali amina"), ("listed_queue", "page", "")]
    assert AccessRecord.objects.get(kind="listed_queue").prefecture == world.prefecture


def test_the_api_logs_the_same_reads(client, world, request_):
    agent = staff(world.prefecture, username="api-reader")
    _token, raw = create_api_token(agent, name="script", prefecture=world.prefecture)
    api = Api(client, raw)
    assert api.get(f"/staff/requests/{request_.reference}").status_code == 200
    assert api.get("/staff/requests", q="Benali").status_code == 200
    assert api.get("/staff/queue").status_code == 200
    assert records(user=agent) == [
        ("opened", "api", ""),
        ("searched", "api", "Benali"),
        ("listed_queue", "api", ""),
    ]
    assert api.get("/staff/requests/93-AAAA-AAAA").status_code == 404
    assert AccessRecord.objects.filter(user=agent).count() == 3


def test_partners_reading_their_clients_files_are_logged_too(client, world, request_):
    organisation, member = partner(world.prefecture)
    partners.create_mandate(
        organisation, request_, by=member, consent_given_on=timezone.localdate(), consent_method="phone"
    )
    verified_login(client, member)
    assert client.get(reverse("backoffice:request", args=[request_.reference])).status_code == 200
    assert records(user=member, request=request_) == [("opened", "page", "")]


def test_managers_see_who_read_the_file_agents_do_not(client, world, request_):
    agent = staff(world.prefecture, username="agent-c")
    manager = staff(world.prefecture, role="manager", username="manager-c")
    verified_login(client, agent)
    page = client.get(reverse("backoffice:request", args=[request_.reference])).content.decode()
    assert 'id="accesses"' not in page
    client.logout()
    verified_login(client, manager)
    page = client.get(reverse("backoffice:request", args=[request_.reference])).content.decode()
    assert 'id="accesses"' in page
    section = page.split('id="accesses"', 1)[1]
    assert "agent-c" in section and "manager-c" in section


def test_old_records_are_purged_and_recent_ones_kept(world, request_, settings):
    settings.ACCESS_LOG_RETENTION_DAYS = 30
    agent = staff(world.prefecture, username="agent-d")
    old = record_access(agent, "opened", channel="page", request=request_)
    old.at = timezone.now() - datetime.timedelta(days=31)
    old.save(update_fields=["at"])
    recent = record_access(agent, "opened", channel="api", request=request_)
    call_command("purge_access_log", stdout=open("/dev/null", "w"))
    assert list(AccessRecord.objects.values_list("pk", flat=True)) == [recent.pk]
    assert purge_access_records() == 0


def test_unknown_kinds_are_refused(world, request_):
    agent = staff(world.prefecture, username="agent-e")
    with pytest.raises(ValueError):
        record_access(agent, "peeked", channel="page", request=request_)
    assert not AccessRecord.objects.exists()
