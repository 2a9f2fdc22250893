"""The page form renders the intake fields and takes its verdict from validate_intake."""

import pytest
from django.http import QueryDict
from django.utils import translation

from guichet.waitlist.forms import ContactForm, IntakeForm

pytestmark = pytest.mark.django_db


def posted(world, **overrides) -> QueryDict:
    data = QueryDict(mutable=True)
    fields = {
        "procedure": "first-permit",
        "family_names": "Traoré",
        "given_names": "Aminata",
        "birth_date": "1988-02-29",
        "nationality": "ML",
        "phone": "06 12 34 56 78",
        "language": "fr",
        **overrides,
    }
    for name, value in fields.items():
        if isinstance(value, list):
            data.setlist(name, value)
        else:
            data[name] = value
    return data


def test_a_valid_form_gives_intake_data(world):
    form = IntakeForm(
        posted(world, sites=[str(world.sites[0].pk)], unavailable_weekdays=["0", "4"], needs_step_free="on"),
        prefecture=world.prefecture,
    )
    assert form.is_valid(), form.errors
    assert form.intake.family_names == "Traoré" and form.intake.phone == "+33612345678"
    assert form.intake.sites == (world.sites[0],) and form.intake.unavailable_weekdays == (0, 4)
    assert form.intake.needs_step_free is True


def test_errors_land_on_their_fields_and_the_contact_error_on_the_form(world):
    form = IntakeForm(
        posted(world, family_names="", birth_date="1990-02-30", phone="", sites=["999999"]),
        prefecture=world.prefecture,
    )
    assert not form.is_valid()
    assert {"family_names", "birth_date", "sites"} <= set(form.errors)
    assert form.non_field_errors()  # no way to reach the person
    assert form.intake is None


def test_a_10000_character_field_is_refused_with_a_message(world):
    form = IntakeForm(posted(world, needs_other="x" * 10_000), prefecture=world.prefecture)
    assert not form.is_valid()
    assert form.errors["needs_other"][0]


def test_the_form_renders_in_arabic_with_the_prefecture_choices(world):
    with translation.override("ar"):
        form = IntakeForm(prefecture=world.prefecture)
        html = str(form)
    assert "first-permit" in html and "Le Raincy" in html and 'value="VN"' in html
    assert 'type="date"' in html and 'autocomplete="family-name"' in html
    assert "vulnerability_reason" not in html


def test_staff_channels_may_record_a_vulnerability(world):
    form = IntakeForm(
        posted(world, vulnerability_reason="Pregnancy"), prefecture=world.prefecture, channel="counter"
    )
    assert "vulnerability_reason" in form.fields
    assert form.is_valid(), form.errors
    assert form.intake.vulnerable
    web = IntakeForm(posted(world, vulnerability_reason="Pregnancy"), prefecture=world.prefecture)
    assert web.is_valid() and not web.intake.vulnerable  # not a field of the web form: not read


def test_contact_form(world):
    form = ContactForm({"email": "a@example.org", "language": "es"}, prefecture=world.prefecture)
    assert form.is_valid(), form.errors
    assert form.contact.email == "a@example.org" and form.contact.language == "es"
    empty = ContactForm({"email": "", "phone": "", "postal_address": ""}, prefecture=world.prefecture)
    assert not empty.is_valid() and empty.non_field_errors()
