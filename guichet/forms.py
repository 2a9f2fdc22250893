"""What a page does with a service's refusal (a DomainError) on its form: one way, on every page."""

from django import forms

from guichet.errors import DomainError


def apply_domain_error(form: forms.BaseForm, error: DomainError) -> None:
    """Each field's messages on that field (on top of the form when it has no such field); the refusal's
    own message on top when it names no field."""
    placed = False
    for field, problems in (error.fields or {}).items():
        target = field if field in form.fields else None
        for problem in problems:
            form.add_error(target, str(problem))
            placed = True
    if not placed:
        form.add_error(None, str(error.message))
