"""Finding a request by reference and birth date, or by its secret link: no oracle for guessers."""

import pytest

from guichet.errors import InvalidInput, NotFound
from guichet.waitlist import references
from guichet.waitlist.services import find_request, find_request_by_token
from tests.waitlist.intake_helpers import file

pytestmark = pytest.mark.django_db


def test_reference_and_birth_date_open_the_request(world):
    result = file(world)
    reference = result.request.reference
    assert find_request(reference, "1990-05-17").pk == result.request.pk
    assert find_request(reference.lower().replace("-", " "), "17/05/1990").pk == result.request.pk


def test_unknown_reference_and_wrong_birth_date_get_the_same_answer(world):
    result = file(world)
    unknown = references.new_reference("93")
    with pytest.raises(NotFound) as wrong_birth:
        find_request(result.request.reference, "1990-05-18")
    with pytest.raises(NotFound) as wrong_reference:
        find_request(unknown, "1990-05-17")
    assert wrong_birth.value.code == wrong_reference.value.code == "not_found"
    assert str(wrong_birth.value.message) == str(wrong_reference.value.message)
    assert wrong_birth.value.status == wrong_reference.value.status == 404


def test_secret_link_opens_the_request_and_nothing_else(world):
    result = file(world)
    reference = result.request.reference
    assert find_request_by_token(reference, result.access_token).pk == result.request.pk
    answers = []
    for ref, token in [
        (reference, result.access_token[:-1] + ("A" if result.access_token[-1] != "A" else "B")),
        (reference, ""),
        (reference, None),
        (references.new_reference("93"), result.access_token),
    ]:
        with pytest.raises(NotFound) as caught:
            find_request_by_token(ref, token)
        answers.append((caught.value.code, str(caught.value.message)))
    assert len(set(answers)) == 1


def test_a_typo_in_the_reference_is_told_as_such(world):
    reference = file(world).request.reference
    typo = reference[:-1] + ("2" if reference[-1] != "2" else "3")
    with pytest.raises(InvalidInput) as caught:
        find_request(typo, "1990-05-17")
    assert caught.value.code == "invalid_reference" and "reference" in caught.value.fields


def test_a_malformed_birth_date_is_refused(world):
    reference = file(world).request.reference
    with pytest.raises(InvalidInput) as caught:
        find_request(reference, "1990-02-30")
    assert "birth_date" in caught.value.fields
