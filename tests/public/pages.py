"""Every public page, as (name, address) pairs, for the tests that must visit them all (axe, weight,
screenshots). Pages of a request use the scenario's requests in the matching state."""

from django.urls import reverse
from django.utils import translation

from tests.public.scenario import Scenario


def public_pages(scenario: Scenario, language: str = "fr") -> list[tuple[str, str]]:
    world = scenario.world
    code = world.prefecture.code

    def url(name, **kwargs):
        with translation.override(language):
            return reverse(f"public:{name}", kwargs=kwargs or None)

    first, renewal = world.procedures["first"], world.procedures["renewal"]
    return [
        ("home", url("home")),
        ("procedures", url("procedures")),
        ("procedure", url("procedure", prefecture=code, code=first.code)),
        ("procedure-renewal", url("procedure", prefecture=code, code=renewal.code)),
        ("file", url("file", prefecture=code, code=renewal.code)),
        ("received", scenario.waiting.url("received", language)),
        ("request-waiting", scenario.waiting.url(language=language)),
        ("request-offered", scenario.offered.url(language=language)),
        ("offer-decline", scenario.offered.url("offer_decline", language, offer_id=scenario.offer.pk)),
        ("request-scheduled", scenario.scheduled.url(language=language)),
        ("appointment", scenario.scheduled.url("appointment", language)),
        ("appointment-cancel", scenario.scheduled.url("appointment_cancel", language)),
        ("request-paused", scenario.paused.url(language=language)),
        ("reactivate", scenario.paused.url("reactivate", language)),
        ("request-choosing", scenario.choosing.url(language=language)),
        ("open-slots", scenario.choosing.url("open_slots", language)),
        ("contact", scenario.waiting.url("contact", language)),
        ("withdraw", scenario.waiting.url("withdraw", language)),
        ("status-lookup", url("status_lookup")),
        ("verify-form", url("verify_convocation_form")),
        ("verify-code", url("verify_convocation", reference=scenario.scheduled.reference)),
        ("accessibility", url("accessibility")),
        ("legal", url("legal")),
        ("privacy", url("privacy")),
        ("free-service", url("free_service")),
    ]
