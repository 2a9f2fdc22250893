"""Hypothesis over the answer normaliser (guichet/dossiers/questions.normalise), the one parser every typed
answer goes through (page, API, counter): whatever arrives, it returns a bounded, storable text or
refuses with the field's message; what it returns reads back as itself; the values a form means to
accept are kept exactly."""

from __future__ import annotations

import datetime
import decimal

from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guichet.dossiers import questions
from guichet.dossiers.models import Question, QuestionKind

CHOICES = [
    {"value": "single", "labels": {"fr": "Célibataire"}},
    {"value": "married", "labels": {"fr": "Marié(e)"}},
]
TYPED_KINDS = [kind for kind in QuestionKind if kind != QuestionKind.FILE]
# The longest stored form of any answer: no answer the normaliser accepts is longer than a text answer.
LONGEST = questions.MAX_TEXT


def question(kind: str) -> Question:
    # Unsaved: normalise reads only the kind and the choices.
    return Question(
        key="q", kind=kind, labels={"fr": "Question"}, choices=CHOICES if kind == "choice" else []
    )


numberish = st.from_regex(r"[-+]?[0-9]{0,12}([.,][0-9]{0,12})?([eE][-+]?[0-9]{1,9})?", fullmatch=True)
dateish = st.from_regex(r"[0-9]{1,5}-[0-9W]{1,3}-[0-9]{1,3}(T[0-9:.+Z-]{0,20})?", fullmatch=True)
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.dates(),
    st.text(),
    # Lone surrogates arrive through JSON ("\ud800"); PostgreSQL cannot store them.
    st.text(alphabet=st.characters(codec=None, categories=["Cs", "Cc", "Zs", "Nd", "Lu", "Ll"])),
    numberish,
    dateish,
    st.sampled_from(["yes", "no", " yes ", "single", "married", "fr", "dz", "ß", "ǅ", "١٢٣"]),
    st.lists(st.text(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
    st.binary(max_size=20),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(kind=st.sampled_from(TYPED_KINDS), raw=anything)
def test_any_input_gives_a_bounded_storable_answer_or_the_fields_message(kind, raw):
    with translation.override("fr"):
        try:
            stored = questions.normalise(question(kind), raw)
        except ValueError as refused:
            assert str(refused) and not str(refused).startswith("Invalid")  # ours, not Python's
            return
    assert isinstance(stored, str)
    assert len(stored) <= LONGEST
    stored.encode("utf-8")  # storable: no lone surrogate
    assert "\x00" not in stored


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(kind=st.sampled_from(TYPED_KINDS), raw=anything)
def test_a_stored_answer_reads_back_as_itself(kind, raw):
    try:
        stored = questions.normalise(question(kind), raw)
    except ValueError:
        return
    assert questions.normalise(question(kind), stored) == stored


@given(st.dates())
def test_dates_are_kept_exactly(day):
    assert questions.normalise(question("date"), day) == day.isoformat()
    assert questions.normalise(question("date"), day.isoformat()) == day.isoformat()


@given(
    st.decimals(
        min_value=decimal.Decimal("-999999999"),
        max_value=decimal.Decimal("999999999"),
        places=4,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_numbers_are_kept_exactly_with_a_comma_or_a_point(number):
    stored = questions.normalise(question("number"), number)
    assert decimal.Decimal(stored) == number
    assert questions.normalise(question("number"), str(number).replace(".", ",")) == stored


@given(st.sampled_from(TYPED_KINDS), st.integers(min_value=1, max_value=1_000_000))
@settings(max_examples=40, deadline=None)
def test_oversized_input_is_refused_with_the_fields_message(kind, extra):
    messages = {
        "text": "too long",
        "address": "too long",
        "date": "real date",
        "yes_no": "yes or no",
        "choice": "list",
        "number": "number",
        "country": "country",
    }
    with translation.override("en"):
        limit = questions.MAX_ADDRESS if kind == "address" else questions.MAX_TEXT
        raw = "1" * (limit + extra)
        try:
            questions.normalise(question(kind), raw)
        except ValueError as refused:
            assert messages[kind] in str(refused), (kind, str(refused))
        else:
            raise AssertionError(f"{kind}: {limit + extra} characters accepted")


def test_a_megabyte_of_text_is_refused_saying_how_long_it_may_be():
    with translation.override("en"):
        try:
            questions.normalise(question("text"), "a" * 1_000_000)
        except ValueError as refused:
            assert str(refused) == "This answer is too long: at most 1000 characters (it has 1000000)."
        else:
            raise AssertionError("accepted")


def test_a_date_object_and_its_text_give_the_same_answer():
    assert questions.normalise(question("date"), datetime.date(1990, 3, 31)) == "1990-03-31"
