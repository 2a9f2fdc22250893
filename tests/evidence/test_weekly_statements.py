"""The weekly "still waiting" statement: one every 7 days per waiting request without an appointment,
whatever how often or how late the task runs."""

import datetime
import io

from django.core.management import call_command
from django.utils import timezone

from guichet.evidence import audit, services
from guichet.evidence.models import AuditEntry, Proof
from guichet.notifications.models import OutboxMessage
from guichet.waitlist.models import RequestStatus

from .helpers import free_slot, give_appointment, make_request

T0 = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)  # a Monday, 09:00 in Paris


def statements(request) -> list[datetime.datetime]:
    return list(
        Proof.objects.filter(request=request, event="still_waiting")
        .order_by("issued_at")
        .values_list("issued_at", flat=True)
    )


def test_issued_after_a_week_not_before(world):
    request, _ = make_request(world, received_at=T0)
    assert services.issue_weekly_statements(T0 + datetime.timedelta(days=6, hours=23)) == 0
    assert services.issue_weekly_statements(T0 + datetime.timedelta(days=7)) == 1
    (at,) = statements(request)
    assert at == T0 + datetime.timedelta(days=7)
    payload = services.verify_token(Proof.objects.get(request=request, event="still_waiting").token).payload
    assert payload["details"]["days_waiting"] == 7 and payload["details"]["week"] == 1
    assert payload["details"]["since"] == "2026-03-02T08:00:00Z"
    assert payload["status"] == "waiting"
    assert AuditEntry.objects.filter(request=request, action="request.still_waiting", actor="system").exists()
    assert audit.verify_chain("93") == []


def test_idempotent_however_often_it_runs(world):
    request, _ = make_request(world, received_at=T0)
    moment = T0 + datetime.timedelta(days=7)
    for hour in range(0, 24 * 7, 1):  # hourly for a week
        services.issue_weekly_statements(moment + datetime.timedelta(hours=hour))
    assert len(statements(request)) == 1
    services.issue_weekly_statements(moment + datetime.timedelta(days=7))
    assert statements(request) == [moment, moment + datetime.timedelta(days=7)]


def test_a_late_run_issues_one_statement_not_a_backlog(world):
    request, _ = make_request(world, received_at=T0)
    assert services.issue_weekly_statements(T0 + datetime.timedelta(days=30)) == 1
    assert services.issue_weekly_statements(T0 + datetime.timedelta(days=30, hours=1)) == 0
    details = services.verify_token(Proof.objects.get(request=request, event="still_waiting").token).payload[
        "details"
    ]
    assert details["days_waiting"] == 30 and details["week"] == 4


def test_waiting_offered_and_paused_requests_get_it_others_do_not(world):
    now = T0 + datetime.timedelta(days=8)
    waiting, _ = make_request(world, received_at=T0, family_names="Waiting")
    offered, _ = make_request(world, received_at=T0, family_names="Offered", status=RequestStatus.OFFERED)
    paused, _ = make_request(world, received_at=T0, family_names="Paused", status=RequestStatus.PAUSED)
    withdrawn, _ = make_request(
        world, received_at=T0, family_names="Withdrawn", status=RequestStatus.WITHDRAWN
    )
    served, _ = make_request(world, received_at=T0, family_names="Served", status=RequestStatus.SERVED)
    booked, _ = make_request(world, received_at=T0, family_names="Booked")
    give_appointment(booked, free_slot(world, timezone.now() + datetime.timedelta(days=3)))
    recent, _ = make_request(world, received_at=now - datetime.timedelta(days=2), family_names="Recent")
    assert services.issue_weekly_statements(now) == 3
    got = set(Proof.objects.filter(event="still_waiting").values_list("request_id", flat=True))
    assert got == {waiting.pk, offered.pk, paused.pk}
    assert not {withdrawn.pk, served.pk, booked.pk, recent.pk} & got


def test_a_request_without_any_proof_counts_from_its_receipt(world):
    request, _ = make_request(world, received_at=T0, with_proof=False)
    assert services.issue_weekly_statements(T0 + datetime.timedelta(days=6)) == 0
    assert services.issue_weekly_statements(T0 + datetime.timedelta(days=7)) == 1


def test_the_applicant_is_told(world):
    request, _ = make_request(world, received_at=T0)
    services.issue_weekly_statements(T0 + datetime.timedelta(days=7))
    assert OutboxMessage.objects.filter(request=request, kind="still_waiting").exists()


def test_many_requests_in_batches(world):
    requests = [make_request(world, received_at=T0, family_names=f"P{i}")[0] for i in range(12)]
    assert services.issue_weekly_statements(T0 + datetime.timedelta(days=7), batch_size=5) == 12
    assert services.issue_weekly_statements(T0 + datetime.timedelta(days=7), batch_size=5) == 0
    assert all(len(statements(r)) == 1 for r in requests)
    assert audit.verify_chain("93") == []
    assert services.verify_proofs() == []  # every bulk-written proof is recorded by its audit entry


def test_command_and_schedule(world):
    from guichet.operations.schedule import JOBS

    make_request(world, received_at=timezone.now() - datetime.timedelta(days=8))
    out = io.StringIO()
    call_command("issue_weekly_statements", stdout=out)
    assert "1 weekly statement(s) issued" in out.getvalue()
    out = io.StringIO()
    call_command("issue_weekly_statements", stdout=out)
    assert "0 weekly statement(s) issued" in out.getvalue()
    jobs = {job.command: job.every_seconds for job in JOBS}
    assert jobs["issue_weekly_statements"] == 3600
    assert jobs["checkpoint_audit"] <= 24 * 3600
