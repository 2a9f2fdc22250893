"""One validation for page, API and back office: every bad input refused field by field, with a message."""

import datetime

import pytest
from django.utils import translation

from guichet.errors import InvalidInput
from guichet.waitlist.models import Channel
from guichet.waitlist.validation import IntakeData, validate_contact, validate_intake
from tests import factories
from tests.waitlist.intake_helpers import catalogue, raw_request, renewal_raw, today_in

pytestmark = pytest.mark.django_db

LONG = "x" * 10_000


def refused(world, raw, channel=Channel.WEB) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        validate_intake(raw, world.prefecture, channel=channel)
    error = caught.value
    assert error.code == "invalid" and error.status == 422
    assert str(error.message)
    for messages in error.fields.values():
        assert messages and all(isinstance(message, str) and message.strip() for message in messages)
    return error


def days(n: int) -> str:
    return (datetime.date.today() + datetime.timedelta(days=n)).isoformat()


BAD_INPUTS = [
    # (case, overrides, field refused)
    ("no family name", {"family_names": ""}, "family_names"),
    ("blank family name", {"family_names": "   "}, "family_names"),
    ("missing family name", {"family_names": ...}, "family_names"),
    ("family name too long", {"family_names": "a" * 151}, "family_names"),
    ("10,000-character name", {"given_names": LONG}, "given_names"),
    ("10,000-character needs", {"needs_other": LONG}, "needs_other"),
    ("10,000-character circumstances", {"urgency_circumstances": LONG}, "urgency_circumstances"),
    ("10,000-character address", {"postal_address": LONG}, "postal_address"),
    ("10,000-character email", {"email": LONG + "@example.org"}, "email"),
    ("10,000-character phone", {"phone": "6" * 10_000}, "phone"),
    ("10,000-character nationality", {"nationality": LONG}, "nationality"),
    ("10,000-character procedure", {"procedure": LONG}, "procedure"),
    ("10,000-character date", {"birth_date": LONG}, "birth_date"),
    ("10,000-character number", {"foreign_national_number": "1" * 10_000}, "foreign_national_number"),
    ("name with NUL", {"family_names": "Doe\x00"}, "family_names"),
    ("name with escape", {"family_names": "\x1b[31mDoe"}, "family_names"),
    ("name with bidi override", {"given_names": "Jane\u202eeoD"}, "given_names"),
    ("name with lone surrogate", {"family_names": "Doe\ud800"}, "family_names"),
    ("name with digits", {"family_names": "Doe3"}, "family_names"),
    ("name with symbols", {"family_names": "<script>"}, "family_names"),
    ("name without letters", {"family_names": "--'"}, "family_names"),
    ("name as a number", {"family_names": 123}, "family_names"),
    ("name as a list", {"family_names": ["Doe"]}, "family_names"),
    ("text with control character", {"needs_other": "ramp\x07"}, "needs_other"),
    ("no birth date", {"birth_date": ""}, "birth_date"),
    ("impossible date", {"birth_date": "2001-02-30"}, "birth_date"),
    ("impossible French date", {"birth_date": "31/04/1990"}, "birth_date"),
    ("month 13", {"birth_date": "1990-13-01"}, "birth_date"),
    ("not a date", {"birth_date": "yesterday"}, "birth_date"),
    ("date as a number", {"birth_date": 19900517}, "birth_date"),
    ("birth date in the future", {"birth_date": days(2)}, "birth_date"),
    ("birth date 131 years ago", {"birth_date": "1800-01-01"}, "birth_date"),
    ("unknown procedure", {"procedure": "no-such-thing"}, "procedure"),
    ("missing procedure", {"procedure": ...}, "procedure"),
    ("procedure as an object", {"procedure": {"code": "first-permit"}}, "procedure"),
    ("procedure with NUL", {"procedure": "first\x00permit"}, "procedure"),
    ("unknown site", {"sites": [999_999]}, "sites"),
    ("site that is not a number", {"sites": ["Bobigny"]}, "sites"),
    ("sites as an object", {"sites": {"id": 1}}, "sites"),
    ("site as a boolean", {"sites": [True]}, "sites"),
    ("too many sites", {"sites": list(range(1, 60))}, "sites"),
    ("unknown nationality", {"nationality": "ZZ"}, "nationality"),
    ("nationality as a name", {"nationality": "France"}, "nationality"),
    ("missing nationality", {"nationality": ""}, "nationality"),
    ("foreign number too short", {"foreign_national_number": "12345"}, "foreign_national_number"),
    ("foreign number too long", {"foreign_national_number": "12345678901"}, "foreign_national_number"),
    ("foreign number with letters", {"foreign_national_number": "12345abcde"}, "foreign_national_number"),
    ("passport too short", {"passport_number": "AB1"}, "passport_number"),
    ("passport too long", {"passport_number": "A" * 21}, "passport_number"),
    ("passport with symbols", {"passport_number": "AB-12345"}, "passport_number"),
    ("malformed email", {"email": "not-an-email"}, "email"),
    ("malformed phone", {"phone": "123"}, "phone"),
    ("letters as phone", {"phone": "call me"}, "phone"),
    ("landline phone", {"phone": "01 42 76 40 40"}, "phone"),
    ("no way to reach the person", {"email": "", "phone": "", "postal_address": ""}, "contact"),
    ("unknown language", {"language": "xx"}, "language"),
    ("language as a number", {"language": 12}, "language"),
    ("interpreter language sentence", {"interpreter_language": "arabic please"}, "interpreter_language"),
    ("not a yes or no", {"needs_step_free": "maybe"}, "needs_step_free"),
    ("weekday out of range", {"unavailable_weekdays": [7]}, "unavailable_weekdays"),
    ("weekday as a name", {"unavailable_weekdays": ["monday"]}, "unavailable_weekdays"),
    ("never available", {"unavailable_weekdays": [0, 1, 2, 3, 4, 5, 6]}, "unavailable_weekdays"),
    ("unavailable date in the past", {"unavailable_dates": ["2020-01-01"]}, "unavailable_dates"),
    ("impossible unavailable date", {"unavailable_dates": ["2031-02-30"]}, "unavailable_dates"),
    ("earliest date in the past", {"earliest_date": days(-3)}, "earliest_date"),
    ("earliest date more than a year ahead", {"earliest_date": days(400)}, "earliest_date"),
    ("permit expiry on a first application", {"permit_expires_on": days(30)}, "permit_expires_on"),
    ("vulnerability declared on the web", {"vulnerability_reason": "pregnant"}, "vulnerability_reason"),
]


@pytest.mark.parametrize(("case", "overrides", "field"), BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_is_refused_on_its_field_in_french_and_arabic(world, case, overrides, field):
    for language in ("fr", "ar"):
        with translation.override(language):
            error = refused(world, raw_request(world, **overrides))
        assert field in error.fields, (language, error.fields)


def test_every_problem_is_reported_at_once(world):
    error = refused(
        world, raw_request(world, family_names="", birth_date="2001-02-30", phone="123", sites=[999])
    )
    assert {"family_names", "birth_date", "phone", "sites"} <= set(error.fields)


def test_a_10000_character_field_gets_a_clear_message(world):
    with translation.override("en"):
        error = refused(world, raw_request(world, needs_other=LONG))
    message = error.fields["needs_other"][0]
    assert "2000" in message and "10000" in message and "too long" in message


def test_renewal_needs_the_permit_expiry(world):
    error = refused(world, renewal_raw(world, permit_expires_on=""))
    assert "permit_expires_on" in error.fields


def test_permit_expiry_far_in_the_past_or_future_is_refused(world):
    assert "permit_expires_on" in refused(world, renewal_raw(world, permit_expires_on="2001-01-01")).fields
    assert "permit_expires_on" in refused(world, renewal_raw(world, permit_expires_on=days(365 * 11))).fields


def test_site_of_another_prefecture_is_refused(world):
    other = factories.prefecture("75", "Préfecture de police")
    paris = factories.site(other, "Cité")
    error = refused(world, raw_request(world, sites=[world.sites[0].pk, paris.pk]))
    assert "sites" in error.fields


def test_inactive_site_and_procedure_are_refused(world):
    world.sites[1].is_active = False
    world.sites[1].save()
    assert "sites" in refused(world, raw_request(world, sites=[world.sites[1].pk])).fields
    procedure = world.procedures["first"]
    procedure.is_active = False
    procedure.save()
    assert "procedure" in refused(world, raw_request(world)).fields


def test_procedure_of_another_prefecture_is_refused(world):
    other = factories.prefecture("75", "Préfecture de police")
    factories.procedure(other, "paris-only")
    assert "procedure" in refused(world, raw_request(world, procedure="paris-only")).fields


def test_the_raw_input_must_be_a_mapping(world):
    with pytest.raises(InvalidInput):
        validate_intake(["not", "a", "dict"], world.prefecture, channel=Channel.WEB)


def test_unknown_channel_is_refused(world):
    assert "channel" in refused(world, raw_request(world), channel="fax").fields


@pytest.mark.parametrize(
    ("family", "given_"),
    [
        ("محمد", "عبد الله"),
        ("Иванов", "Йосиф Петрович"),
        ("王", "小明"),
        ("穆罕默德·阿里", ""),
        ("N'Diaye", "Awa"),
        ("O’Connor-Smith", "Mary-Jane"),
        ("Nguyễn", "Thị Minh Khai"),
        ("Yıldız", "İsmail"),
        ("Núñez de Balboa", "José María"),
        ("Μαρία", "Παπαδοπούλου"),
        ("Ramírez\u200f", ""),
        ("Anna", ""),
    ],
)
def test_names_in_any_script_are_accepted(world, family, given_):
    data = validate_intake(
        raw_request(world, family_names=family, given_names=given_), world.prefecture, channel="web"
    )
    assert isinstance(data, IntakeData)
    assert data.family_names == family.strip()
    assert data.given_names == given_


def test_clean_data_is_normalised(world):
    data = validate_intake(
        raw_request(
            world,
            family_names="  Da   Silva ",
            birth_date="17/05/1990",
            foreign_national_number=" 75 0123 4567 ",
            passport_number="ab 123 456",
            email="Jane@Example.ORG",
            phone="06 12 34 56 78",
            sites=[str(world.sites[1].pk), world.sites[0].pk, world.sites[0].pk],
            nationality="br",
            language="AR",
            interpreter_language="AR",
            needs_step_free="on",
            needs_other="ramp\r\nplease",
            unavailable_weekdays=["4", 0, 0],
            unavailable_dates=f"{days(10)}, {days(5)}",
            earliest_date=days(3),
        ),
        world.prefecture,
        channel="web",
    )
    assert data.family_names == "Da Silva"
    assert data.birth_date == datetime.date(1990, 5, 17)
    assert data.foreign_national_number == "7501234567"
    assert data.passport_number == "AB123456"
    assert data.email == "Jane@example.org"
    assert data.phone == "+33612345678"
    assert [site.pk for site in data.sites] == sorted(site.pk for site in world.sites)
    assert data.nationality == "BR"
    assert data.language == "ar" and data.interpreter_language == "ar"
    assert data.needs_step_free is True and data.needs_other == "ramp\nplease"
    assert data.unavailable_weekdays == (0, 4)
    assert [day.isoformat() for day in data.unavailable_dates] == [days(5), days(10)]
    assert data.earliest_date.isoformat() == days(3)
    assert data.vulnerable is False


def test_foreign_mobile_numbers_and_arabic_indic_digits_are_accepted(world):
    data = validate_intake(
        raw_request(world, phone="+216 20 123 456", foreign_national_number="٧٥٠١٢٣٤٥٦٧"),
        world.prefecture,
        channel="web",
    )
    assert data.phone == "+21620123456"
    assert data.foreign_national_number == "7501234567"


def test_overseas_prefecture_reads_local_numbers_in_its_own_plan(db):
    reunion = catalogue("974")
    data = validate_intake(raw_request(reunion, phone="0692 12 34 56"), reunion.prefecture, channel="web")
    assert data.phone == "+262692123456"


def test_a_postal_address_alone_is_enough(world):
    data = validate_intake(
        raw_request(world, email="", phone="", postal_address="12 rue de la Paix\n93000 Bobigny"),
        world.prefecture,
        channel="post",
    )
    assert data.contact.postal_address == "12 rue de la Paix\n93000 Bobigny"


def test_renewal_with_expiry_is_valid(world):
    data = validate_intake(renewal_raw(world, expires_in_days=30), world.prefecture, channel="web")
    assert data.permit_expires_on == today_in(world.prefecture) + datetime.timedelta(days=30)


def test_staff_may_record_a_vulnerability(world):
    data = validate_intake(
        raw_request(world, vulnerability_reason="Pregnancy"), world.prefecture, channel="counter"
    )
    assert data.vulnerable


def test_language_defaults_to_the_active_one(world):
    with translation.override("ar"):
        data = validate_intake(raw_request(world, language=...), world.prefecture, channel="web")
    assert data.language == "ar"


def test_activating_arabic_does_not_crash_and_gives_messages(world):
    with translation.override("ar"):
        error = refused(world, raw_request(world, family_names="", phone="123"))
        assert translation.get_language() == "ar"
    assert error.fields["family_names"] and error.fields["phone"]


def test_validate_contact(world):
    contact = validate_contact({"phone": "07 81 23 45 67", "language": "tr"}, prefecture=world.prefecture)
    assert contact.phone == "+33781234567" and contact.language == "tr" and contact.email == ""
    with pytest.raises(InvalidInput) as caught:
        validate_contact({"email": "", "phone": "", "postal_address": ""})
    assert "contact" in caught.value.fields


@pytest.mark.parametrize("comma", ["،", "؛", "，", "、", ",", " "])
def test_the_dates_field_takes_the_comma_its_hint_shows(world, comma):
    # The Arabic hint separates its example dates with "،": typing them as shown was refused.
    first, second = days(10), days(12)
    data = validate_intake(
        raw_request(world, unavailable_dates=f"{first}{comma} {second}"), world.prefecture, channel="web"
    )
    assert [day.isoformat() for day in data.unavailable_dates] == [first, second]


def test_arabic_indic_digits_and_the_arabic_comma_together(world):
    western = days(10)
    eastern = western.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    data = validate_intake(
        raw_request(world, unavailable_dates=f"{eastern}،{days(11)}"), world.prefecture, channel="web"
    )
    assert [day.isoformat() for day in data.unavailable_dates] == [western, days(11)]


def test_step_free_access_at_places_that_all_lack_it_is_refused(world):
    # Such a request could never be served: in the demo it waited past its due date while the step-free
    # site had free slots.
    bobigny, raincy = world.sites  # Bobigny has step-free access, Le Raincy has not
    with translation.override("fr"):
        error = refused(world, raw_request(world, sites=[raincy.pk], needs_step_free=True))
    assert "accès sans marche" in error.fields["sites"][0]
    web = {"channel": Channel.WEB}
    both = validate_intake(
        raw_request(world, sites=[raincy.pk, bobigny.pk], needs_step_free=True), world.prefecture, **web
    )
    assert both.sites == (bobigny, raincy)
    assert validate_intake(raw_request(world, needs_step_free=True), world.prefecture, **web).sites == ()
    assert validate_intake(raw_request(world, sites=[raincy.pk]), world.prefecture, **web).sites == (raincy,)
