"""Messages rendered from their templates, in the person's language: email (text and HTML) and SMS.

Templates live in templates/notifications/: `email/<kind>.subject.txt`, `parts/<kind>.{txt,html}` (the body,
shared by emails and letters), `sms/<kind>.txt`.
"""

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from . import content
from .calendar import appointment_ics
from .models import OutboxMessage


@dataclass
class RenderedEmail:
    subject: str
    text: str
    html: str
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)


def tidy_text(text: str) -> str:
    """Template output as plain text: no trailing spaces, at most one blank line in a row."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def language_of(message: OutboxMessage) -> str:
    """The message's language if Guichet speaks it, else French (the default)."""
    codes = {code for code, _name in settings.LANGUAGES}
    language = (message.language or "").lower()
    return language if language in codes else settings.LANGUAGE_CODE


def context_in(message: OutboxMessage, subjects: content.Subjects, language: str) -> dict:
    with translation.override(language):
        context = content.template_context(message, subjects)
        context["direction"] = "rtl" if translation.get_language_bidi() else "ltr"
        context["partner_copy"] = bool(message.context.get("partner_copy"))
    return context


def render_subject(message: OutboxMessage, context: dict) -> str:
    return one_line(render_to_string(f"notifications/email/{message.kind}.subject.txt", context))


def render_email(message: OutboxMessage, subjects: content.Subjects | None = None) -> RenderedEmail:
    subjects = subjects or content.load(message)
    language = language_of(message)
    context = context_in(message, subjects, language)
    with translation.override(language):
        subject = render_subject(message, context)
        context.update(
            subject=subject,
            body_txt=f"notifications/parts/{message.kind}.txt",
            body_html=f"notifications/parts/{message.kind}.html",
        )
        text = tidy_text(render_to_string("notifications/email/base.txt", context))
        html = render_to_string("notifications/email/base.html", context)
    attachments = []
    if message.kind in content.APPOINTMENT_KINDS or message.kind == "appointment_cancelled":
        attachments.append(
            (
                f"rendez-vous-{subjects.request.reference}.ics",
                appointment_ics(subjects.appointment, language),
                "text/calendar",
            )
        )
    return RenderedEmail(subject, text, html, attachments)


def render_sms(message: OutboxMessage, subjects: content.Subjects | None = None) -> str:
    subjects = subjects or content.load(message)
    language = language_of(message)
    context = context_in(message, subjects, language)
    with translation.override(language):
        return one_line(render_to_string(f"notifications/sms/{message.kind}.txt", context))
