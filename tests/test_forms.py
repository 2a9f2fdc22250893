"""One mapping of a service's refusal onto a form (guichet/forms.py), used by every page."""

from django import forms

from guichet.errors import Conflict, InvalidInput
from guichet.forms import apply_domain_error


class ReasonForm(forms.Form):
    reason = forms.CharField(required=False)


def _bound() -> ReasonForm:
    form = ReasonForm({"reason": "x"})
    assert form.is_valid()
    return form


def test_field_messages_go_on_their_field_and_unknown_fields_on_top():
    form = _bound()
    refusal = InvalidInput("invalid", "Invalid.", {"reason": ["Too short."], "other": ["No."]})
    apply_domain_error(form, refusal)
    assert form.errors["reason"] == ["Too short."]
    assert form.non_field_errors() == ["No."]


def test_a_refusal_without_fields_is_said_on_top():
    form = _bound()
    apply_domain_error(form, Conflict("already_decided", "Already decided."))
    assert form.non_field_errors() == ["Already decided."]
    assert "reason" not in form.errors
