"""References with a check character, and access tokens."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guichet.waitlist import references
from guichet.waitlist.references import (
    ALPHABET,
    InvalidReference,
    format_reference,
    new_reference,
    parse_reference,
)

DEPARTMENTS = st.sampled_from(["01", "2A", "2B", "75", "93", "95", "971", "974", "976"])
BODIES = st.text(st.sampled_from(ALPHABET), min_size=7, max_size=7)


def test_shape_and_alphabet():
    reference = new_reference("93")
    assert len(reference) == 12 and reference[:3] == "93-" and reference[7] == "-"
    assert set(reference[3:].replace("-", "")) <= set(ALPHABET)
    for ambiguous in "01OILUB":
        assert ambiguous not in ALPHABET
    assert len(ALPHABET) == 29


def test_new_reference_refuses_a_non_department():
    with pytest.raises(ValueError):
        new_reference("99")


@given(DEPARTMENTS, BODIES)
def test_formatted_references_parse_to_themselves(department, body):
    reference = format_reference(department, body)
    assert parse_reference(reference) == reference


@given(DEPARTMENTS, BODIES, st.sampled_from(["lower", "spaces", "none", "padded", "dashes"]))
def test_case_spaces_and_hyphens_are_tolerated(department, body, style):
    reference = format_reference(department, body)
    typed = {
        "lower": reference.lower(),
        "spaces": reference.replace("-", " "),
        "none": reference.replace("-", ""),
        "padded": f"  {reference[:6]} {reference[6:]}  ",
        "dashes": reference.replace("-", " – "),
    }[style]
    assert parse_reference(typed) == reference


@settings(max_examples=500)
@given(DEPARTMENTS, BODIES, st.integers(0, 7), st.sampled_from(ALPHABET))
def test_every_single_wrong_character_is_detected(department, body, position, replacement):
    reference = format_reference(department, body)
    code = list(reference[len(department) + 1 :].replace("-", ""))
    if code[position] == replacement:
        return
    code[position] = replacement
    typed = f"{department}-{''.join(code[:4])}-{''.join(code[4:])}"
    with pytest.raises(InvalidReference):
        parse_reference(typed)


@settings(max_examples=500)
@given(DEPARTMENTS, BODIES, st.integers(0, 6))
def test_every_swap_of_two_neighbours_is_detected(department, body, position):
    reference = format_reference(department, body)
    code = list(reference[len(department) + 1 :].replace("-", ""))
    if code[position] == code[position + 1]:
        return
    code[position], code[position + 1] = code[position + 1], code[position]
    with pytest.raises(InvalidReference):
        parse_reference(f"{department}{''.join(code)}")


@given(st.sampled_from(["91", "92", "93", "94", "95", "971", "972", "973", "974", "976"]), BODIES)
def test_a_wrong_digit_of_the_department_is_detected(department, body):
    reference = format_reference(department, body)
    for digit in "0123456789":
        other = department[:-1] + digit
        if other != department and len(other) == len(department):
            try:
                parse_reference(other + reference[len(department) :])
            except InvalidReference:
                continue
            pytest.fail(f"{other} accepted for {reference}")


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_parser_never_fails_otherwise_than_with_invalid_reference(text):
    try:
        parsed = parse_reference(text)
    except InvalidReference:
        return
    assert parse_reference(parsed) == parsed


@pytest.mark.parametrize(
    "typed",
    ["", "93", "93-K7M4-QX9", "93-K7M4-QX9TT", "00-K7M4-QX9T", "93-K7M4-QX0T", None, 93, "x" * 10_000],
)
def test_malformed_references_are_refused(typed):
    with pytest.raises(InvalidReference):
        parse_reference(typed)


def test_letters_left_out_are_read_as_their_look_alike():
    reference = format_reference("93", "K7M8V4Q")
    assert parse_reference(reference.replace("8", "B").replace("V", "U")) == reference
    # but not in the département: 2B is Corsica
    corsica = format_reference("2B", "K7M8V4Q")
    assert parse_reference(corsica.lower()) == corsica


def test_references_are_random():
    seen = {new_reference("93") for _ in range(2000)}
    assert len(seen) == 2000
    deterministic = new_reference("93", choice=random.Random(1).choice)
    assert deterministic == new_reference("93", choice=random.Random(1).choice)


def test_access_tokens_are_stored_as_hashes_and_compared_in_constant_time():
    token = references.new_access_token()
    assert len(token) == 32
    stored = references.hash_token(token)
    assert len(stored) == 64 and token not in stored
    assert references.token_matches(token, stored)
    assert not references.token_matches(token + "x", stored)
    assert not references.token_matches("", stored)
    assert not references.token_matches(None, stored)
    assert not references.token_matches(token, "")
    assert references.new_access_token() != token
