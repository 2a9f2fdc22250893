"""Every staff read of a person's evidence is logged (R27): proofs, the list of proofs, court orders and the
signed consent forms of mandates. The person's own reads, with their link, are not."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from guichet.accounts.models import AccessRecord
from guichet.evidence import audit, court_orders
from guichet.evidence.models import Proof
from guichet.partners import services as partners
from tests.backoffice.helpers import partner
from tests.evidence.conftest import make_staff, verified_client
from tests.evidence.helpers import make_request


@pytest.fixture
def agent(world, django_user_model):
    return make_staff(django_user_model, "agent", world.prefecture, role="manager")


def reads(user):
    return list(AccessRecord.objects.filter(user=user).order_by("id").values_list("request_id", "detail"))


def test_a_proof_read_by_staff_is_logged_and_by_its_person_is_not(world, agent, client):
    request, token = make_request(world)
    proof = Proof.objects.get(request=request)
    assert client.get(reverse("evidence:proof", args=[proof.pk]), {"token": token}).status_code == 200
    assert not AccessRecord.objects.exists()
    staff = verified_client(agent)
    assert staff.get(reverse("evidence:proof", args=[proof.pk])).status_code == 200
    assert staff.get(reverse("evidence:request_proofs", args=[request.reference])).status_code == 200
    assert reads(agent) == [(request.pk, f"proof {proof.pk}"), (request.pk, "proofs")]


def test_a_court_order_read_by_staff_is_logged(world, agent):
    request, _ = make_request(world)
    order = court_orders.record_court_order(
        request,
        tribunal="Tribunal administratif de Montreuil",
        case_number="2601234",
        ordered_on=timezone.localdate(),
        notified_on=timezone.localdate(),
        convoke_by=timezone.localdate() + timezone.timedelta(days=3),
        appointment_by=None,
        actor=audit.SYSTEM,
    )
    assert verified_client(agent).get(reverse("backoffice:court_order", args=[order.pk])).status_code == 200
    assert reads(agent) == [(request.pk, f"court order {order.pk}")]


def test_a_consent_form_read_by_staff_is_logged(world, agent, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    request, _ = make_request(world)
    organisation, member = partner(world.prefecture, name="Asso", username="member")
    mandate = partners.create_mandate(
        organisation,
        request,
        by=member,
        consent_given_on=timezone.localdate(),
        consent_method="signed_form",
        consent_form=SimpleUploadedFile("m.pdf", b"%PDF-1.4\n%%EOF\n"),
    )
    response = verified_client(agent).get(reverse("backoffice:mandate_form", args=[mandate.pk]))
    assert response.status_code == 200
    assert reads(agent) == [(request.pk, f"consent form of mandate {mandate.pk}")]
