"""Filing a request (the intake form) and the receipt shown right after."""

import secrets

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from guichet.evidence.audit import APPLICANT
from guichet.public import estimates, ratelimit
from guichet.public.views.common import applicant_page, guarded, page_context
from guichet.public.views.info import get_procedure
from guichet.public.views.status import proof_links
from guichet.waitlist import access
from guichet.waitlist.due_dates import filing_window
from guichet.waitlist.forms import IntakeForm
from guichet.waitlist.models import AppointmentRequest, Channel
from guichet.waitlist.services import file_request

# Fieldsets of the form, in the order people think about them. Fields the form lacks are skipped.
FIELDSETS = [
    (
        "identity",
        _("About you"),
        _("As written on your passport or residence permit."),
        [
            "family_names",
            "given_names",
            "birth_date",
            "nationality",
            "foreign_national_number",
            "passport_number",
        ],
    ),
    (
        "contact",
        _("How can we reach you?"),
        _("Give at least one: an email address, a mobile phone or a postal address."),
        ["email", "phone", "postal_address", "language"],
    ),
    ("permit", _("Your current permit"), "", ["permit_expires_on"]),
    (
        "where",
        _("Where and when you can come"),
        "",
        ["sites", "unavailable_weekdays", "unavailable_dates", "earliest_date"],
    ),
    (
        "needs",
        _("Your needs"),
        _("This helps us to receive you well. It does not change your place in the queue."),
        ["interpreter_language", "needs_step_free", "needs_other", "urgency_circumstances"],
    ),
]

# A submission id sent twice (a double click, a reload after a slow answer) gives back the first result.
SUBMISSION_TTL = 3600


def build_form(procedure, data=None) -> IntakeForm:
    """The intake form for one procedure: the procedure comes from the address, sites that serve it only."""
    if data is not None:
        data = data.copy()
        data["procedure"] = procedure.code
    form = IntakeForm(
        data,
        prefecture=procedure.prefecture,
        channel=Channel.WEB,
        initial={"procedure": procedure.code, "language": get_language()},
    )
    form.fields["procedure"].widget = forms.HiddenInput()
    serving = estimates.sites_serving(procedure)
    if serving and "sites" in form.fields:
        form.fields["sites"].choices = [(str(site.pk), f"{site.name} ({site.city})") for site in serving]
    if not procedure.is_renewal:
        form.fields.pop("permit_expires_on", None)
    return form


def fieldsets(form: IntakeForm) -> list[dict]:
    placed = set()
    result = []
    for key, legend, intro, names in FIELDSETS:
        fields = [form[name] for name in names if name in form.fields]
        placed.update(names)
        if fields:
            result.append({"id": key, "legend": legend, "intro": intro, "fields": fields})
    rest = [form[name] for name in form.fields if name not in placed and name != "procedure"]
    if rest:
        result.append({"id": "other", "legend": _("Other information"), "intro": "", "fields": rest})
    return result


def _submission_key(submission: str) -> str:
    return f"guichet:submission:{submission}"


@guarded
@never_cache
def file(request: HttpRequest, prefecture: str, code: str) -> HttpResponse:
    procedure = get_procedure(prefecture, code)
    submission = request.POST.get("submission", "")[:64] if request.method == "POST" else ""
    if submission:
        earlier = cache.get(_submission_key(submission))
        if earlier:
            return redirect(access.request_url(earlier[0], earlier[1], "received"))
    if request.method == "POST":
        ratelimit.check(request, "filing", ratelimit.filing_identity(request.POST))
        form = build_form(procedure, request.POST)
        if form.is_valid():
            result = file_request(
                form.intake, prefecture=procedure.prefecture, channel=Channel.WEB, actor=APPLICANT
            )
            if result.created and result.access_token:
                if submission:
                    cache.set(
                        _submission_key(submission),
                        (result.request.reference, result.access_token),
                        SUBMISSION_TTL,
                    )
                return redirect(access.request_url(result.request.reference, result.access_token, "received"))
            return render(
                request,
                "public/already_filed.html",
                {"procedure": procedure, "notice": result.notice_for_the_public},
            )
    else:
        form = build_form(procedure)
    return render(
        request,
        "public/file.html",
        {
            "procedure": procedure,
            "form": form,
            "fieldsets": fieldsets(form),
            "submission": submission or secrets.token_urlsafe(16),
        },
    )


@applicant_page
def received(request: HttpRequest, found: AppointmentRequest, token: str) -> HttpResponse:
    received_on = timezone.localtime(found.received_at, found.prefecture.tzinfo).date()
    window = filing_window(found.procedure, found.permit_expires_on, received_on)
    secret_url = None
    if not access.is_signed_key(token):
        # The canonical address (SITE_URL), not the host this request came through.
        secret_url = settings.SITE_URL + access.request_url(found.reference, token)
    return render(
        request,
        "public/received.html",
        page_context(found, token, window=window, secret_url=secret_url, proofs=_proof_links(found, token)),
    )


def _proof_links(found: AppointmentRequest, token: str) -> dict:
    return proof_links(found, token)
