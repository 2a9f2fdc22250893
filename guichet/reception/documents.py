"""The PDF of an interim document: French first, then the person's language, with the QR code of its signed
proof (verifiable at /verify and with openssl alone, docs/proofs.md).

The applicant downloads it with their access token (`?token=`), staff of the prefecture in their session;
anyone else gets 404, the same as for an unknown document.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy

from guichet import documents
from guichet.evidence import pdf
from guichet.evidence.permissions import can_read_request
from guichet.waitlist.countries import COUNTRIES

from .models import InterimDocument, InterimKind

# The documents' titles, as their first heading says them (reception/pdf/_interim_section.html).
TITLES = {
    InterimKind.RECEPISSE: gettext_lazy("Receipt of an application for a residence permit (récépissé)"),
    InterimKind.PROLONGATION: gettext_lazy(
        "Attestation of extended examination (attestation de prolongation d'instruction)"
    ),
    InterimKind.GRACE: gettext_lazy("Statement of the grace period of an expired card (article L.433-3)"),
}


def _token(request: HttpRequest) -> str:
    return (request.GET.get("token") or request.headers.get("X-Access-Token") or "").strip()[:200]


def readable_document(request: HttpRequest, pk: int) -> InterimDocument:
    document = (
        InterimDocument.objects.select_related("request__prefecture", "request__procedure", "proof")
        .filter(pk=pk)
        .first()
    )
    if document is None or not can_read_request(request, document.request, _token(request)):
        raise Http404
    return document


def _section(document: InterimDocument, language: str) -> str:
    request = document.request
    with translation.override(language):
        return render_to_string(
            "reception/pdf/_interim_section.html",
            {
                "document": document,
                "req": request,
                "language": language,
                "bidi": translation.get_language_bidi(),
                "title": TITLES[InterimKind(document.kind)],
                "valid_from": date_format(document.valid_from, "DATE_FORMAT"),
                "valid_until": date_format(document.valid_until, "DATE_FORMAT"),
                "expiry": date_format(request.permit_expires_on, "DATE_FORMAT")
                if request.permit_expires_on
                else "",
                "birth_date": date_format(request.birth_date, "DATE_FORMAT"),
                "issued": date_format(
                    document.issued_at.astimezone(request.prefecture.tzinfo), "DATETIME_FORMAT"
                ),
                "nationality": str(COUNTRIES.get(request.nationality, request.nationality)),
            },
        )


def interim_pdf_bytes(document: InterimDocument) -> bytes:
    languages = ["fr"] + ([document.request.language] if document.request.language != "fr" else [])
    qr = pdf.proof_qr(document.proof.token, "fr")
    with translation.override("fr"):
        html = render_to_string(
            "reception/pdf/interim.html",
            {
                "document": document,
                "sections": [_section(document, language) for language in languages],
                "qr": qr,
                "site_url": settings.SITE_URL,
                "title": str(TITLES[InterimKind(document.kind)]),
            },
        )
    return documents.write_pdf(html)


def interim_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    document = readable_document(request, pk)
    response = HttpResponse(interim_pdf_bytes(document), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{document.kind}-{document.request.reference}-{document.number}.pdf"'
    )
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
