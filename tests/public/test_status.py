"""Following a request: by reference and birth date, or by the private link; the request's page."""

import re
import time
from unittest import mock

import pytest

from guichet.allocation.service import allocate
from guichet.waitlist import access
from guichet.waitlist.models import AppointmentRequest, RequestStatus
from tests.public import scenario as scenarios

pytestmark = pytest.mark.django_db


@pytest.fixture
def filed(world):
    scenarios.generate_slots(world, weeks=2)
    return scenarios.file(world, "first")


def lookup(client, reference, birth_date, language="en"):
    return client.post(f"/{language}/status/", {"reference": reference, "birth_date": birth_date})


def test_reference_and_birth_date_open_the_request(client, filed):
    response = lookup(client, filed.reference, scenarios.BIRTH_DATE)
    assert response.status_code == 302
    match = re.fullmatch(rf"/en/r/{re.escape(filed.reference)}/([^/]+)/", response["Location"])
    assert match and access.is_signed_key(match.group(1))
    page = client.get(response["Location"])
    assert page.status_code == 200 and filed.reference in page.content.decode()
    assert page["Cache-Control"] == "no-store" or "no-store" in page["Cache-Control"]


def test_reference_is_read_as_people_type_it(client, filed):
    typed = filed.reference.lower().replace("-", " ")
    assert lookup(client, typed, scenarios.BIRTH_DATE).status_code == 302


def test_unknown_reference_and_wrong_birth_date_get_the_same_answer(client, filed, world):
    wrong_date = lookup(client, filed.reference, "1991-01-01")
    # A well-formed reference that exists nowhere: same department, valid check character.
    from guichet.waitlist.references import new_reference

    unknown = new_reference(world.prefecture.code)
    while AppointmentRequest.objects.filter(reference=unknown).exists():
        unknown = new_reference(world.prefecture.code)
    unknown_answer = lookup(client, unknown, scenarios.BIRTH_DATE)
    assert wrong_date.status_code == unknown_answer.status_code == 200

    def message(response):
        body = response.content.decode()
        return re.sub(
            r"\s+",
            " ",
            body[body.index("data-error-summary") : body.index("</ul>", body.index("data-error-summary"))],
        )

    assert message(wrong_date) == message(unknown_answer)


def test_a_typo_in_the_reference_is_said_on_its_field(client, filed):
    typo = filed.reference[:-1] + ("2" if filed.reference[-1] != "2" else "3")
    body = lookup(client, typo, scenarios.BIRTH_DATE).content.decode()
    assert 'href="#id_reference"' in body


def test_empty_and_impossible_input(client, filed):
    body = lookup(client, "", "").content.decode()
    assert 'href="#id_reference"' in body and 'href="#id_birth_date"' in body
    body = lookup(client, filed.reference, "1990-02-30").content.decode()
    assert 'href="#id_birth_date"' in body
    body = lookup(client, "x" * 10_000, "1990-01-01").content.decode()
    assert 'href="#id_reference"' in body


def test_wrong_or_forged_keys_are_404(client, filed):
    assert client.get(filed.url()).status_code == 200
    assert client.get(f"/en/r/{filed.reference}/{'a' * 32}/").status_code == 404
    assert client.get(f"/en/r/{filed.reference}/{filed.token[:-1]}/").status_code == 404
    other_key = access.signed_key("93-AAAA-AAAA")
    assert client.get(f"/en/r/{filed.reference}/{other_key}/").status_code == 404
    assert client.get(f"/en/r/{filed.reference}/123.abc/").status_code == 404
    assert client.get(f"/en/r/NOPE/{filed.token}/").status_code == 404


def test_a_signed_key_expires(client, filed):
    key = access.signed_key(filed.reference)
    assert client.get(f"/en/r/{filed.reference}/{key}/").status_code == 200
    later = time.time() + access.ACCESS_KEY_MAX_AGE.total_seconds() + 60
    with mock.patch("django.core.signing.time.time", return_value=later):
        assert client.get(f"/en/r/{filed.reference}/{key}/").status_code == 404


def test_waiting_request_shows_position_due_date_window_and_history(client, world, filed):
    ahead = filed
    behind = scenarios.file(world, "first")
    body = client.get(behind.url(language="en")).content.decode()
    assert "You are number 2 in the queue" in body
    assert "Counted at " in body and "earlier due date than yours" in body
    assert behind.request.due_date.strftime("%Y") in body
    # A free slot suits it: the page says it is offered at the next allocation run, not a vague window.
    assert "suits you: it will be offered to you at the next allocation run" in body
    assert "Request received" in body
    # Each proof opens with the request's own key.
    proof_links = re.findall(r'href="(/en/proofs/\d+/\?token=[^"]+)"', body)
    assert proof_links and all(behind.token in link for link in proof_links)
    assert client.get(proof_links[0]).status_code == 200
    assert ahead.reference not in body


def test_each_state_is_explained(client, scenario):
    pages = {
        "offered": (scenario.offered, "Accept this appointment"),
        "scheduled": (scenario.scheduled, "Convocation, address and what to bring"),
        "paused": (scenario.paused, "Reactivate my request"),
        "choosing": (scenario.choosing, "Choose a free slot"),
    }
    for state, (filed, phrase) in pages.items():
        body = client.get(filed.url(language="en")).content.decode()
        assert phrase in body, state


def test_messages_can_follow_the_page_language(client, filed):
    assert filed.request.language == "fr"
    body = client.get(filed.url(language="uk")).content.decode()
    action = filed.url("language", "uk")
    assert f'action="{action}"' in body
    response = client.post(action)
    assert response.status_code == 302
    assert filed.refresh().language == "uk"
    assert client.get(action).status_code == 405


def test_withdraw(client, filed):
    url = filed.url("withdraw", "en")
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": "I moved to Lyon"})
    assert response.status_code == 302
    assert filed.refresh().status == RequestStatus.WITHDRAWN
    assert "no longer in the queue" in client.get(url).content.decode()
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200  # refused with a message, nothing changes
    assert filed.refresh().status == RequestStatus.WITHDRAWN


def test_reactivate_a_paused_request(client, scenario):
    paused = scenario.paused
    assert client.get(paused.url("reactivate", "en")).status_code == 200
    response = client.post(paused.url("reactivate", "en"))
    assert response.status_code == 302
    assert paused.refresh().status == RequestStatus.WAITING
    # Again: not paused any more, a message and no change.
    client.post(paused.url("reactivate", "en"))
    assert paused.refresh().status == RequestStatus.WAITING


def test_update_contact(client, filed):
    url = filed.url("contact", "en")
    body = client.get(url).content.decode()
    assert 'value="amina@example.org"' in body
    response = client.post(url, {"email": "", "phone": "", "postal_address": "", "language": "es"})
    assert response.status_code == 200 and "data-error-summary" in response.content.decode()
    assert filed.refresh().email == "amina@example.org"
    response = client.post(
        url, {"email": "not-an-email", "phone": "", "postal_address": "", "language": "es"}
    )
    assert 'href="#id_email"' in response.content.decode()
    response = client.post(url, {"email": "new@example.org", "phone": "06 12 34 56 78", "language": "es"})
    assert response.status_code == 302
    request = filed.refresh()
    assert (request.email, request.phone, request.language) == ("new@example.org", "+33612345678", "es")


def test_the_status_page_says_an_interpreter_is_booked_when_no_counter_speaks_the_language(client, world):
    # It used to promise an offer within days and said nothing of the interpreter the slot would need.
    somali = scenarios.file(world, "first", interpreter_language="so")
    body = client.get(somali.url(language="en")).content.decode()
    assert "No counter speaks Somali at the places you chose: an interpreter will be booked" in body
    arabic = scenarios.file(world, "first", interpreter_language="ar")  # Guichet 1 speaks Arabic
    body = client.get(arabic.url(language="en")).content.decode()
    assert "A counter that speaks Arabic will receive you if it has a slot in time" in body
    assert "an interpreter will be booked for your appointment (in person" not in body


def test_an_offer_needing_an_interpreter_says_it_is_booked(client, world):
    scenarios.generate_slots(world, weeks=2)
    somali = scenarios.file(world, "first", interpreter_language="so")
    allocate(world.prefecture)
    assert somali.refresh().status == RequestStatus.OFFERED
    body = client.get(somali.url(language="en")).content.decode()
    assert "An interpreter in Somali will be booked for this appointment" in body
    body = client.get(somali.url(language="ar")).content.decode()
    assert "Somali" not in body  # translated, like the rest of the page
