"""Letters for people reachable only by post: A4 PDFs for a window envelope, in French and in their language.

French first, because the letter is an administrative act and may be shown to anyone; then the same text
in the person's language on its own page. A convocation carries a QR code to check that it is genuine.
"""

from collections.abc import Callable

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from guichet import dates, documents

from . import content
from .links import convocation_verify_url, secret_status_url
from .models import OutboxMessage
from .rendering import context_in, language_of, render_subject

FRENCH = "fr"


def _section(message: OutboxMessage, subjects: content.Subjects, language: str, qr_kind: str) -> dict:
    context = context_in(message, subjects, language)
    context["channel"] = "letter"
    with translation.override(language):
        body = render_to_string(f"notifications/parts/{message.kind}.html", context)
        footer = render_to_string("notifications/parts/_footer.html", context)
        qr_caption = {
            "convocation": _("Scan this code to check that this convocation is genuine."),
            "status": _("Scan this code to open your request."),
        }.get(qr_kind, "")
        return {
            "language": language,
            "direction": context["direction"],
            "subject": render_subject(message, context),
            "greeting": _("Hello %(person)s,") % {"person": context["person"]},
            "heading": _("The same letter in your language: %(language)s")
            % {"language": content.language_name(language)},
            "date_line": _("Date of this letter: %(date)s")
            % {"date": dates.long_date(message.created_at.astimezone(subjects.request.prefecture.tzinfo))},
            "reference_line": _("Reference: %(reference)s") % {"reference": context["reference"]},
            "body": mark_safe(body),
            "footer": mark_safe(footer),
            "qr_caption": qr_caption,
            "context": context,
        }


def letter_html(message: OutboxMessage, subjects: content.Subjects | None = None) -> str:
    subjects = subjects or content.load(message)
    request = subjects.request
    language = language_of(message)
    qr = None
    if message.kind in content.CONVOCATION_KINDS and subjects.appointment is not None:
        qr = {"kind": "convocation", "data": convocation_verify_url(subjects.appointment)}
    elif message.kind == "received":
        secret = secret_status_url(request, message.context or {}, language)
        if secret:
            qr = {"kind": "status", "data": secret}
    languages = [FRENCH] if language == FRENCH else [FRENCH, language]
    sections = [_section(message, subjects, code, qr["kind"] if qr else "") for code in languages]
    french = sections[0]["context"]
    address = (message.recipient if message.channel == "letter" else request.postal_address).strip()
    return render_to_string(
        "notifications/letter/base.html",
        {
            "sections": sections,
            "reference": request.reference,
            "prefecture": french["prefecture"],
            "prefecture_email": french["prefecture_email"],
            "site_url": french["site_url"],
            "person": french["person"],
            "address": address,
            # Agents often type the name as the first line of the address: do not print it twice.
            "show_person": request.family_names.casefold() not in address.splitlines()[0].casefold()
            if address
            else True,
            "qr": {
                "image": documents.qr_data_uri(qr["data"]),
                "data": qr["data"],
                # The convocation check's address is printed for whoever has no scanner; the private
                # status link is not (it is the key to the request).
                "show_address": qr["kind"] == "convocation",
            }
            if qr
            else None,
        },
    )


def render_letter_pdf(message: OutboxMessage) -> bytes:
    """One outbox message as an A4 letter in PDF, bilingual when the person's language is not French."""
    return documents.write_pdf(letter_html(message))


def render_letter_batch_pdf(
    messages: list[OutboxMessage], progress: Callable[[int], None] | None = None
) -> bytes:
    """Several letters in one PDF, each starting on a new sheet: the day's print run. `progress(n)` after
    the n-th letter (a print job shows it)."""
    return documents.write_pdf_batch((letter_html(message) for message in messages), progress)
