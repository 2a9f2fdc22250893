"""Retention per phase and the daily purge: what is erased when, what stays, and that every proof handed out
before still verifies (with the published key alone) while verify_audit passes. SQLite and PostgreSQL."""

import datetime
import io
import json
import subprocess

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.management import call_command
from django.utils import timezone

from guichet.evidence import audit, court_orders, services, signing
from guichet.evidence.models import AuditEntry, AuditPersonalData, Proof
from guichet.notifications.models import OutboxMessage
from guichet.privacy import retention
from guichet.privacy.services import purge_personal_data, record_court_case_end
from guichet.public.statistics import prefecture_figures
from guichet.waitlist import services as waitlist
from guichet.waitlist.models import AppointmentRequest, RequestStatus
from tests.evidence.helpers import make_request
from tests.evidence.test_openssl import openssl_has_ed25519_rawin, run_doc_commands

DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def periods(settings):
    settings.RETENTION_AFTER_END_DAYS = 730
    settings.RETENTION_AFTER_COURT_CASE_DAYS = 180


def closed_request(world, family_names="Benali"):
    request, _ = make_request(world, family_names=family_names, passport_number="X1234567")
    waitlist.close_request(request, audit.SYSTEM, "the person moved to Lyon")
    request.refresh_from_db()
    return request


def with_court_order(request):
    return court_orders.record_court_order(
        request,
        tribunal="Tribunal administratif de Montreuil",
        case_number="2601234",
        ordered_on=timezone.localdate() - DAY,
        notified_on=timezone.localdate(),
        convoke_by=timezone.localdate() + 3 * DAY,
        appointment_by=None,
        actor=audit.SYSTEM,
    )


def handed_out(request) -> list[str]:
    """The proofs as the person downloaded them before the purge."""
    return list(Proof.objects.filter(request=request).order_by("pk").values_list("token", flat=True))


def verifies_with_the_published_key(token: str, client) -> bool:
    """With the cryptography library only: the JWK set's key, the token's signing input and signature."""
    header = json.loads(signing.b64url_decode(token.split(".")[0]))
    (jwk,) = [k for k in client.get("/.well-known/jwks.json").json()["keys"] if k["kid"] == header["kid"]]
    key = Ed25519PublicKey.from_public_bytes(signing.b64url_decode(jwk["x"]))
    signing_input, _, signature = token.rpartition(".")
    key.verify(signing.b64url_decode(signature), signing_input.encode("ascii"))
    return True


def test_an_active_request_is_kept_whatever_its_age(world):
    request, _ = make_request(world, received_at=timezone.now() - 3000 * DAY)
    report = purge_personal_data(timezone.now() + 3000 * DAY)
    assert report.requests == 0
    request.refresh_from_db()
    assert request.erased_at is None and request.family_names == "Benali"
    assert retention.phase_of(request) == retention.Phase.ACTIVE


def test_an_ended_request_is_kept_for_its_period(world):
    request = closed_request(world)
    assert retention.phase_of(request) == retention.Phase.ENDED
    assert retention.erasure_date(request) == (request.status_changed_at + 730 * DAY).date()
    assert purge_personal_data(request.status_changed_at + 729 * DAY).requests == 0
    request.refresh_from_db()
    assert request.erased_at is None


def test_an_ended_request_past_its_period_is_erased_and_its_proofs_still_verify(world, client):
    request = closed_request(world)
    other = closed_request(world, family_names="Kept")  # within its period at the purge below
    AppointmentRequest.objects.filter(pk=other.pk).update(status_changed_at=timezone.now() + 400 * DAY)
    tokens = handed_out(request)
    assert len(tokens) == 2  # received, closed
    as_of = timezone.now()
    figures_before = prefecture_figures(world.prefecture, as_of)
    report = purge_personal_data(request.status_changed_at + 731 * DAY)

    assert report.requests == 1
    assert report.removed["requests"] == 1 and report.removed["proof_texts"] == 2
    assert report.removed["audit_texts"] == 1 and report.removed["messages"] >= 1
    request.refresh_from_db()
    assert request.erased_at is not None and retention.phase_of(request) == retention.Phase.ERASED
    assert (request.family_names, request.given_names, request.birth_date) == ("", "", None)
    assert (request.email, request.postal_address, request.passport_number, request.identity_key) == ("",) * 4
    assert request.closing_reason == "" and request.status == RequestStatus.CLOSED
    assert not AuditPersonalData.objects.filter(entry__request=request).exists()
    assert not OutboxMessage.objects.filter(request=request).exclude(recipient="").exists()
    # What the server keeps of the proofs names nobody, and still recognises the copies handed out.
    for proof, token in zip(Proof.objects.filter(request=request).order_by("pk"), tokens, strict=True):
        assert proof.erased and proof.fingerprint == services.fingerprint(token)
        assert verifies_with_the_published_key(token, client)
        assert services.verify_token(token).payload["name"]["family"] == "Benali"
    assert services.verify_audit() == []
    # Nothing of the person is left in any table that stays.
    for entry in AuditEntry.objects.filter(request=request):
        assert "Benali" not in json.dumps(entry.data) and "Lyon" not in json.dumps(entry.data)
    other.refresh_from_db()
    assert other.erased_at is None and other.family_names == "Kept"
    # The aggregated figures do not change.
    assert prefecture_figures(world.prefecture, as_of) == figures_before


@pytest.mark.skipif(not openssl_has_ed25519_rawin(), reason="this openssl cannot verify Ed25519 raw input")
def test_a_proof_handed_out_verifies_with_openssl_after_the_purge(world, client, tmp_path):
    request = closed_request(world)
    token = handed_out(request)[0]
    purge_personal_data(request.status_changed_at + 731 * DAY)
    assert Proof.objects.filter(request=request, token="").count() == 2
    (jwk,) = client.get("/.well-known/jwks.json").json()["keys"]
    result = run_doc_commands(tmp_path, token, jwk["x"])
    assert result.returncode == 0 and "Signature Verified Successfully" in result.stdout
    digest = subprocess.run(
        ["openssl", "dgst", "-sha256"], input=token, capture_output=True, text=True, timeout=30, check=True
    )
    assert digest.stdout.split()[-1] == Proof.objects.filter(request=request).order_by("pk")[0].fingerprint


def test_a_pending_court_case_keeps_the_request(world):
    request, _ = make_request(world)
    order = with_court_order(request)
    waitlist.close_request(request, audit.SYSTEM, "served elsewhere")
    request.refresh_from_db()
    assert retention.phase_of(request) == retention.Phase.COURT_CASE
    assert retention.erasure_date(request) is None
    assert purge_personal_data(request.status_changed_at + 3000 * DAY).requests == 0
    # The case ends: kept RETENTION_AFTER_COURT_CASE_DAYS more, then erased (its own period is over).
    record_court_case_end(order, timezone.localdate(), audit.SYSTEM)
    assert AuditEntry.objects.filter(action="court_order.case_ended", request=request).exists()
    later = timezone.now() + 3000 * DAY
    assert retention.phase_of(request, timezone.now() + 100 * DAY) == retention.Phase.COURT_CASE
    assert purge_personal_data(timezone.now() + 100 * DAY).requests == 0
    assert purge_personal_data(later).requests == 1
    request.refresh_from_db()
    assert request.erased_at is not None
    assert services.verify_audit() == []


def test_the_end_of_a_case_is_a_real_date(world):
    request, _ = make_request(world)
    order = with_court_order(request)
    from guichet.errors import InvalidInput

    for wrong in (order.ordered_on - DAY, timezone.localdate() + DAY):
        with pytest.raises(InvalidInput):
            record_court_case_end(order, wrong, audit.SYSTEM)
    order.refresh_from_db()
    assert order.case_ended_on is None


def test_the_purge_is_audited_with_counts_only_and_repeats_harmlessly(world):
    request = closed_request(world)
    at = request.status_changed_at + 731 * DAY
    purge_personal_data(at)
    assert purge_personal_data(at).requests == 0
    runs = list(AuditEntry.objects.filter(action="privacy.purge").order_by("seq"))
    assert [run.data["requests"] for run in runs] == [1, 0]
    assert runs[0].data["removed"]["proof_texts"] == 2 and runs[0].chain == audit.PLATFORM_CHAIN
    erased = AuditEntry.objects.get(action="request.erased", request=request)
    assert erased.data["cause"] == "retention" and erased.chain == world.prefecture.code
    assert services.verify_audit() == []


def test_the_command_prints_the_report(world):
    request = closed_request(world)
    AppointmentRequest.objects.filter(pk=request.pk).update(status_changed_at=timezone.now() - 800 * DAY)
    out = io.StringIO()
    call_command("purge_personal_data", stdout=out)
    text = out.getvalue()
    assert "1 request(s) erased" in text and "proof_texts: 2" in text and "Benali" not in text


def test_an_erased_request_records_no_more_events(world):
    request = closed_request(world)
    purge_personal_data(request.status_changed_at + 731 * DAY)
    request.refresh_from_db()
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        services.record_event(request, "closed", audit.SYSTEM)


def test_staff_record_the_end_of_a_case_from_the_court_order_page(world, django_user_model):
    from django.urls import reverse

    from tests.evidence.conftest import make_staff, verified_client

    request, _ = make_request(world)
    order = with_court_order(request)
    staff = verified_client(make_staff(django_user_model, "manager", world.prefecture))
    url = reverse("backoffice:court_case_end", args=[order.pk])
    page = staff.get(reverse("backoffice:court_order", args=[order.pk])).content.decode()
    assert url in page
    assert staff.post(url, {"ended_on": "not a date"}).status_code == 302
    assert staff.post(url, {"ended_on": (timezone.localdate() + DAY).isoformat()}).status_code == 302
    order.refresh_from_db()
    assert order.case_ended_on is None
    assert staff.post(url, {"ended_on": timezone.localdate().isoformat()}).status_code == 302
    order.refresh_from_db()
    assert order.case_ended_on == timezone.localdate()
    page = staff.get(reverse("backoffice:court_order", args=[order.pk])).content.decode()
    assert "The case ended on" in page
