"""Mandates: the client's consent recorded (date, how, an optional signed form checked by its content),
revocable by the client or the organisation; partners see only their own clients; copies of notices."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from guichet.errors import Conflict, Forbidden, InvalidInput, NotFound
from guichet.evidence.models import AuditEntry
from guichet.partners import services
from guichet.partners.models import Mandate, MandateStatus
from guichet.waitlist.models import AppointmentRequest, Channel
from guichet.waitlist.validation import validate_intake
from tests.backoffice.helpers import file, intake_raw, partner, staff, verified_login

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, "JPEG")
    return buffer.getvalue()


def consent_post(world, *, upload=None, method="signed_form", **raw):
    data = {
        "consent-consent_given_on": timezone.localdate().isoformat(),
        "consent-consent_method": method,
        **intake_raw(world, **raw),
    }
    if upload is not None:
        data["consent-consent_form"] = upload
    return data


@pytest.fixture
def org(world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return partner(world.prefecture, name="Secours")


def test_partner_files_for_a_client_with_a_signed_pdf(client, world, org):
    organisation, user = org
    verified_login(client, user)
    upload = SimpleUploadedFile("mandat.pdf", PDF, content_type="application/pdf")
    response = client.post(
        reverse("backoffice:partner_file"), consent_post(world, upload=upload, family="Client")
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    request = AppointmentRequest.objects.get(family_names="Client")
    assert request.channel == Channel.PARTNER and request.created_by == user
    mandate = Mandate.objects.get(request=request)
    assert mandate.organisation == organisation and mandate.consent_form_type == "application/pdf"
    assert mandate.consent_form.name.endswith(".pdf")
    assert AuditEntry.objects.get(request=request, action="request.mandate_recorded").actor.startswith(
        "partner:"
    )
    assert AuditEntry.objects.get(request=request, action="request.received").actor.startswith("partner:")
    # The partner follows the request and downloads the form; the client list shows it.
    assert client.get(reverse("backoffice:request", args=[request.reference])).status_code == 200
    assert request.reference in client.get(reverse("backoffice:partner_home")).content.decode()
    download = client.get(reverse("backoffice:mandate_form", args=[mandate.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF-")


def test_a_pdf_renamed_png_is_recognised_by_its_content(world, org):
    organisation, user = org
    request = file(world, family="Renamed")
    upload = SimpleUploadedFile("photo.png", PDF, content_type="image/png")
    mandate = services.create_mandate(
        organisation,
        request,
        consent_given_on=timezone.localdate(),
        consent_method="signed_form",
        consent_form=upload,
        by=user,
    )
    assert mandate.consent_form_type == "application/pdf" and mandate.consent_form.name.endswith(".pdf")


@pytest.mark.parametrize(
    ("name", "content", "accepted"),
    [
        ("scan.png", None, "image/png"),
        ("scan.jpg", None, "image/jpeg"),
        ("form.pdf", b"<html>not a pdf</html>", None),
        ("form.pdf", b"%PDF-1.4 truncated without an end", None),
        ("scan.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, None),
        ("virus.exe", b"MZ\x90\x00" + b"\x00" * 100, None),
        ("empty.pdf", b"", None),
    ],
)
def test_uploads_are_checked_by_content(world, org, name, content, accepted):
    organisation, user = org
    if content is None:
        content = png_bytes() if accepted == "image/png" else jpeg_bytes()
    request = file(world, family=f"Up{name.replace('.', '')}")
    upload = SimpleUploadedFile(name, content)
    if accepted:
        mandate = services.create_mandate(
            organisation,
            request,
            consent_given_on=timezone.localdate(),
            consent_method="signed_form",
            consent_form=upload,
            by=user,
        )
        assert mandate.consent_form_type == accepted
    else:
        with pytest.raises(InvalidInput) as error:
            services.create_mandate(
                organisation,
                request,
                consent_given_on=timezone.localdate(),
                consent_method="signed_form",
                consent_form=upload,
                by=user,
            )
        assert "consent_form" in error.value.fields
        assert not Mandate.objects.filter(request=request).exists()


@override_settings(MANDATE_FORM_MAX_BYTES=1024)
def test_an_oversized_form_is_refused_and_nothing_is_filed(client, world, org):
    _organisation, user = org
    verified_login(client, user)
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * 2048, content_type="application/pdf")
    response = client.post(reverse("backoffice:partner_file"), consent_post(world, upload=big, family="Big"))
    assert response.status_code == 200 and "too large" in response.content.decode()
    assert not AppointmentRequest.objects.filter(family_names="Big").exists()


def test_consent_date_and_method_are_required_and_checked(world, org):
    organisation, user = org
    request = file(world, family="Consent")
    for kwargs in (
        {"consent_given_on": timezone.localdate() + datetime.timedelta(days=1), "consent_method": "phone"},
        {"consent_given_on": timezone.localdate(), "consent_method": "telepathy"},
        {"consent_given_on": timezone.localdate(), "consent_method": "signed_form"},  # without the form
    ):
        with pytest.raises(InvalidInput):
            services.create_mandate(organisation, request, by=user, **kwargs)
    services.create_mandate(
        organisation, request, by=user, consent_given_on=timezone.localdate(), consent_method="phone"
    )
    with pytest.raises(Conflict):
        services.create_mandate(
            organisation, request, by=user, consent_given_on=timezone.localdate(), consent_method="phone"
        )


def test_a_name_and_birth_date_alone_do_not_open_an_existing_request(world, org):
    organisation, user = org
    existing = file(world, family="Existing")
    data = validate_intake(intake_raw(world, family="Existing"), world.prefecture, channel=Channel.PARTNER)
    with pytest.raises(Conflict):
        services.file_for_client(
            organisation, data, by=user, consent_given_on=timezone.localdate(), consent_method="phone"
        )
    assert not Mandate.objects.exists()
    with pytest.raises(NotFound):
        services.attach_mandate(
            organisation,
            reference=existing.reference,
            birth_date=datetime.date(2000, 1, 1),
            by=user,
            consent_given_on=timezone.localdate(),
            consent_method="phone",
        )
    mandate = services.attach_mandate(
        organisation,
        reference=existing.reference.lower(),
        birth_date=existing.birth_date,
        by=user,
        consent_given_on=timezone.localdate(),
        consent_method="in_person",
    )
    assert mandate.request == existing


def test_partners_never_see_another_organisations_clients(client, world, org):
    organisation, user = org
    rival, rival_user = partner(world.prefecture, name="Rival")
    mine = file(world, family="Mine")
    theirs = file(world, family="Theirs")
    services.create_mandate(
        organisation, mine, by=user, consent_given_on=timezone.localdate(), consent_method="phone"
    )
    their_mandate = services.create_mandate(
        rival, theirs, by=rival_user, consent_given_on=timezone.localdate(), consent_method="phone"
    )
    unassisted = file(world, family="Nobody")
    verified_login(client, user)
    assert client.get(reverse("backoffice:request", args=[mine.reference])).status_code == 200
    for other in (theirs, unassisted):
        assert client.get(reverse("backoffice:request", args=[other.reference])).status_code == 404
        assert (
            other.reference
            not in client.get(reverse("backoffice:search"), {"q": other.family_names}).content.decode()
        )
    assert client.get(reverse("backoffice:revoke_mandate", args=[their_mandate.pk])).status_code == 404
    assert client.get(reverse("backoffice:mandate_form", args=[their_mandate.pk])).status_code == 404
    # Staff pages are not for partners.
    assert client.get(reverse("backoffice:queue", args=[world.prefecture.code])).status_code == 403
    assert client.get(reverse("backoffice:contact", args=[mine.reference])).status_code == 404


def test_revocation_by_the_organisation_ends_access(client, world, org):
    organisation, user = org
    request = file(world, family="Revoked")
    mandate = services.create_mandate(
        organisation, request, by=user, consent_given_on=timezone.localdate(), consent_method="phone"
    )
    verified_login(client, user)
    url = reverse("backoffice:revoke_mandate", args=[mandate.pk])
    assert client.post(url, {"revoked_by": "client", "reason": ""}).status_code == 200  # not theirs to say
    assert client.post(url, {"revoked_by": "organisation", "reason": "client moved away"}).status_code == 302
    mandate.refresh_from_db()
    assert mandate.status == MandateStatus.REVOKED and mandate.revoked_by == "organisation"
    assert client.get(reverse("backoffice:request", args=[request.reference])).status_code == 404
    assert services.partner_copies(request) == []


def test_revocation_by_the_client_through_an_agent_or_alone(world, org):
    organisation, user = org
    request = file(world, family="Client")
    first = services.create_mandate(
        organisation, request, by=user, consent_given_on=timezone.localdate(), consent_method="phone"
    )
    agent = staff(world.prefecture)
    services.revoke_mandate(first, revoked_by="client", reason="said so at the counter", by=agent)
    entry = AuditEntry.objects.get(request=request, action="request.mandate_revoked")
    assert entry.actor == f"staff:{agent.username}" and entry.data["revoked_by"] == "client"
    second = services.create_mandate(
        organisation, request, by=user, consent_given_on=timezone.localdate(), consent_method="phone"
    )
    services.revoke_mandate(second, revoked_by="client")  # the applicant's own page
    assert AuditEntry.objects.filter(
        request=request, action="request.mandate_revoked", actor="applicant"
    ).exists()
    with pytest.raises(Conflict):
        services.revoke_mandate(second, revoked_by="client")
    with pytest.raises(Forbidden):
        services.revoke_mandate(second, revoked_by="organisation")


def test_copies_of_notices_go_to_organisations_acting_for_the_client(world, org):
    organisation, user = org
    request = file(world, family="Copies")
    assert services.partner_copies(request) == []
    services.create_mandate(
        organisation, request, by=user, consent_given_on=timezone.localdate(), consent_method="phone"
    )
    assert services.partner_copies(request) == [organisation.email]
    organisation.receives_copies = False
    organisation.save()
    assert services.partner_copies(request) == []


def test_agent_of_another_prefecture_cannot_record_a_client_revocation(world, org):
    from tests.factories import prefecture as make_prefecture

    organisation, user = org
    request = file(world, family="Elsewhere")
    mandate = services.create_mandate(
        organisation, request, by=user, consent_given_on=timezone.localdate(), consent_method="phone"
    )
    outsider = staff(make_prefecture("75", "Paris"))
    with pytest.raises(Forbidden):
        services.revoke_mandate(mandate, revoked_by="client", by=outsider)
