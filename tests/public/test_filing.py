"""Filing a request from the page: the form, its refusals field by field, the receipt, no duplicates."""

import re

import pytest

from guichet.waitlist.models import AppointmentRequest, Channel, RequestStatus
from tests.public import scenario as scenarios

pytestmark = pytest.mark.django_db


def form_url(world, procedure="first", language="en"):
    return f"/{language}/procedures/{world.prefecture.code}/{world.procedures[procedure].code}/request/"


def valid(world, **changes):
    data = {
        "family_names": "Nguyễn",
        "given_names": "Văn An",
        "birth_date": "1988-02-29",
        "nationality": "VN",
        "email": "an@example.org",
        "phone": "",
        "postal_address": "",
        "language": "en",
    }
    data.update(changes)
    return data


def test_the_form_is_grouped_labelled_and_autocompleted(client, world):
    body = client.get(form_url(world)).content.decode()
    assert "novalidate" in body  # our messages, in the page's language, not the browser's
    assert body.count('class="form-section"') >= 4
    for name, autocomplete in [
        ("family_names", "family-name"),
        ("given_names", "given-name"),
        ("birth_date", "bday"),
        ("email", "email"),
        ("phone", "tel"),
        ("postal_address", "street-address"),
    ]:
        assert re.search(
            rf'<[^>]*name="{name}"[^>]*autocomplete="{autocomplete}"|<[^>]*autocomplete="{autocomplete}"[^>]*name="{name}"',
            body,
        ), name
        assert f'for="id_{name}"' in body
    # A first application has no current permit: the field is not asked.
    assert 'name="permit_expires_on"' not in body
    assert 'name="permit_expires_on"' in client.get(form_url(world, "renewal")).content.decode()


def test_empty_form_is_refused_field_by_field_and_nothing_is_stored(client, world):
    response = client.post(form_url(world), {"submission": "x1"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "data-error-summary" in body
    summary = body[body.index("data-error-summary") : body.index("</ul>", body.index("data-error-summary"))]
    for field in ("family_names", "birth_date", "nationality"):
        assert f'href="#id_{field}"' in summary
        assert f'id="id_{field}-error"' in body
        assert re.search(
            rf'id="id_{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="id_{field}"', body
        )
        assert re.search(rf'aria-describedby="[^"]*id_{field}-error', body)
    assert "<title>Error:" in body
    assert AppointmentRequest.objects.count() == 0


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"birth_date": "1990-02-30"}, "birth_date"),
        ({"family_names": "x" * 10_000}, "family_names"),
        ({"email": "not an email"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"nationality": "QQ"}, "nationality"),
        ({"sites": ["999999"]}, "sites"),
    ],
)
def test_bad_input_gets_a_message_on_its_field(client, world, changes, field):
    response = client.post(form_url(world), valid(world, **changes))
    assert response.status_code == 200
    assert (
        f'id="id_{field}-error"' in response.content.decode()
        or f'href="#id_{field}' in response.content.decode()
    )
    assert AppointmentRequest.objects.count() == 0


def test_names_in_any_script_are_filed(client, world):
    for family, given in [
        ("بن علي", "ياسمينة"),
        ("Шевченко", "Тарас"),
        ("王", "小明"),
        ("N'Diaye-Sow", "Aïssatou"),
    ]:
        response = client.post(form_url(world), valid(world, family_names=family, given_names=given))
        assert response.status_code == 302, family
    assert AppointmentRequest.objects.count() == 4


def test_a_valid_request_is_filed_and_leads_to_its_receipt(client, world):
    response = client.post(form_url(world, language="ar"), valid(world, language="ar", submission="abc"))
    assert response.status_code == 302
    filed = AppointmentRequest.objects.get()
    assert filed.channel == Channel.WEB
    assert filed.status == RequestStatus.WAITING
    assert filed.language == "ar"  # remembered on the request: every notice uses it
    assert filed.procedure == world.procedures["first"]
    assert re.fullmatch(rf"/ar/r/{re.escape(filed.reference)}/[A-Za-z0-9_-]+/received/", response["Location"])


def test_the_language_defaults_to_the_page(client, world):
    body = client.get(form_url(world, language="tr")).content.decode()
    assert re.search(r'<option value="tr" selected>', body)


def test_a_double_submission_gives_back_the_same_receipt(client, world):
    data = valid(world, submission="same-form")
    first = client.post(form_url(world), data)
    again = client.post(form_url(world), data)
    assert first["Location"] == again["Location"]
    assert AppointmentRequest.objects.count() == 1


def test_a_second_request_of_the_same_person_is_not_created_and_its_reference_not_shown(client, world):
    existing = scenarios.file(
        world, "first", family_names="Diallo", given_names="Mariam", birth_date="1992-07-14"
    )
    response = client.post(
        form_url(world), valid(world, family_names="DIALLO", given_names="mariam", birth_date="1992-07-14")
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert AppointmentRequest.objects.count() == 1
    # Names and a birth date are not a secret: they must not give the reference (which opens the request).
    assert existing.reference not in body
    assert "/en/status/" in body


def test_the_procedure_comes_from_the_address_not_the_form(client, world):
    client.post(form_url(world), valid(world, procedure=world.procedures["collection"].code))
    assert AppointmentRequest.objects.get().procedure == world.procedures["first"]


def test_a_late_renewal_is_accepted_with_a_warning(client, world):
    import datetime

    from django.utils import timezone

    expires = timezone.localdate() + datetime.timedelta(days=20)
    response = client.post(form_url(world, "renewal"), valid(world, permit_expires_on=expires.isoformat()))
    assert response.status_code == 302
    body = client.get(response["Location"]).content.decode()
    assert "late fee" in body


def test_checkbox_lists_are_checkboxes_in_both_skins(client, world, skin):
    body = client.get(form_url(world)).content.decode()
    group = "fr-checkbox-group" if skin == "dsfr" else "choice"
    weekdays = body[body.index('id="id_unavailable_weekdays-group"') :]
    weekdays = weekdays[: weekdays.index("</fieldset>")]
    assert f'<div class="{group}"><input type="checkbox" name="unavailable_weekdays"' in weekdays
    assert "fr-radio-group" not in weekdays
