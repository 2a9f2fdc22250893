"""The paper receipt staff hand over (or post) when they file a request for a person: the signed "received"
proof, written for the person to keep and to act on.

French first, because it is an administrative document anyone may be shown; then the same page in the
language the person chose. Each page says how to follow the request: the reference, the status page in that
language (with a QR code to it), how the prefecture will write, its phone and email, and the reception desks
where one may ask with an identity document. The last page carries the proof itself (QR code and token),
verifiable at /verify and with openssl alone (docs/proofs.md).
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from guichet import documents
from guichet.bidi import isolate
from guichet.catalog.models import Site
from guichet.dates import long_date
from guichet.notifications.content import language_name
from guichet.notifications.links import status_lookup_url
from guichet.waitlist.models import AppointmentRequest

from . import pdf, presentation, services, signing
from .models import Proof

FRENCH = "fr"
# Details of the proof a person cannot act on (the version number of a list of documents they do not hold).
LEFT_OUT = {"documents_version"}


def receipt_languages(request: AppointmentRequest) -> list[str]:
    """French, then the person's language when it is another one."""
    language = request.language if request.language in dict(settings.LANGUAGES) else FRENCH
    return [FRENCH] if language == FRENCH else [FRENCH, language]


def _desks(request: AppointmentRequest) -> list[Site]:
    """Where the person may ask about the request in person: the sites they accept, else every open one."""
    chosen = [site for site in request.sites.all() if site.is_active]
    return chosen or list(Site.objects.filter(prefecture=request.prefecture_id, is_active=True))


def _section(request: AppointmentRequest, content_payload: dict, language: str, desks: list[Site]) -> str:
    prefecture = request.prefecture
    with translation.override(language):
        status_url = status_lookup_url(language)
        return render_to_string(
            "evidence/pdf/_receipt_section.html",
            {
                "req": request,
                "language": language,
                "bidi": translation.get_language_bidi(),
                "first": language == FRENCH,
                "language_name": language_name(language),
                "content": presentation.describe(content_payload),
                "reference": isolate(request.reference),
                "status_url": isolate(status_url),
                "status_qr": documents.qr_data_uri(status_url),
                "due_date": long_date(request.due_date),
                "email": isolate(request.email),
                "phone": isolate(request.phone),
                "by_post": bool(request.postal_address.strip()),
                "prefecture_phone": isolate(prefecture.contact_phone),
                "prefecture_email": isolate(prefecture.contact_email),
                "desks": desks,
            },
        )


def receipt_pdf_bytes(proof: Proof) -> bytes:
    """The receipt of `proof` (a "received" proof) as a tagged PDF, French then the person's language."""
    request = proof.request
    payload = dict(signing.parse_and_verify(proof.token, services.published_keys()).payload)
    if isinstance(payload.get("details"), dict):
        payload["details"] = {k: v for k, v in payload["details"].items() if k not in LEFT_OUT}
    desks = _desks(request)
    sections = [_section(request, payload, language, desks) for language in receipt_languages(request)]
    with translation.override(FRENCH):
        html = render_to_string(
            "evidence/pdf/receipt.html",
            {
                "req": request,
                "proof": proof,
                "sections": sections,
                "qr": pdf.proof_qr(proof.token, FRENCH),
                "site_url": settings.SITE_URL,
            },
        )
    return documents.write_pdf(html)
