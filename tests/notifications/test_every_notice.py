"""Every message kind renders in every language, by email, SMS and letter, in that language's own words."""

import re

import pytest
from django.conf import settings

from guichet.notifications.content import KINDS
from guichet.notifications.letters import letter_html, render_letter_pdf
from guichet.notifications.rendering import render_email, render_sms
from guichet.notifications.sms import sms_length
from tests import pdf as read_pdf

from .conftest import make_story, message_for

LANGUAGES = [code for code, _name in settings.LANGUAGES]

# A word of the "received" subject in each language, written by its translator: proves the catalogue is used.
OWN_WORDS = {
    "fr": "Demande",
    "en": "Request",
    "ar": "طلب",
    "es": "Solicitud",
    "ru": "Заявк",
    "uk": "Заяв",
    "zh-hans": "申请",
    "tr": "Başvuru",
}
SCRIPT = {
    "ar": re.compile(r"[\u0600-\u06FF]"),
    "ru": re.compile(r"[\u0400-\u04FF]"),
    "uk": re.compile(r"[\u0400-\u04FF]"),
    "zh-hans": re.compile(r"[\u4E00-\u9FFF]"),
}
ENGLISH_ONLY = re.compile(r"\b(Your appointment|We offer you|Answer before|Your request)\b")


@pytest.fixture
def stories(world):
    return {
        language: make_story(world, language, reference=f"93-TEST-{i:04d}", shift=i)
        for i, language in enumerate(LANGUAGES)
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_kind_by_email_and_sms(stories, language):
    story = stories[language]
    for kind in KINDS:
        email = render_email(message_for(story, kind, "email"))
        assert email.subject and "\n" not in email.subject, kind
        assert story.request.reference in email.text, kind
        assert f'lang="{language}"' in email.html, kind
        assert ('dir="rtl"' in email.html) == (language == "ar"), kind
        sms = render_sms(message_for(story, kind, "sms"))
        assert sms and "\n" not in sms, kind
        if language in SCRIPT:
            for text in (email.subject, email.text, sms):
                assert SCRIPT[language].search(text), (kind, text)
        if language != "en":
            assert not ENGLISH_ONLY.search(email.text), (kind, email.text)
    received = render_email(message_for(story, "received", "email"))
    assert OWN_WORDS[language] in received.subject
    assert "s3cr3t-t0k3n" in received.text  # the private link, known only at intake


@pytest.mark.parametrize("language", LANGUAGES)
def test_sms_stay_short(stories, language, settings):
    """French and English SMS fit one 160-character GSM message; the others (UCS-2 as soon as one letter is
    outside the GSM alphabet: Arabic, Cyrillic, Chinese, but also Turkish ı or Spanish á) stay within three
    67-character parts."""
    settings.SITE_URL = "https://rdv.prefecture93.example.fr"
    story = stories[language]
    for kind in KINDS:
        length = sms_length(render_sms(message_for(story, kind, "sms")))
        assert length.segments <= (1 if language in {"fr", "en"} else 3), (kind, length)
    french = render_sms(message_for(stories["fr"], "appointment_confirmed", "sms"))
    assert sms_length(french).encoding == "GSM-7", french


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_kind_as_a_letter(stories, language):
    story = stories[language]
    story.request.postal_address = "12 rue de la Paix\n93000 Bobigny"
    for kind in KINDS:
        html = letter_html(message_for(story, kind, "letter"))
        assert "12 rue de la Paix" in html
        assert 'lang="fr"' in html
        if language != "fr":
            assert f'lang="{language}"' in html, kind
        if language in SCRIPT:
            assert SCRIPT[language].search(html), kind


@pytest.mark.parametrize("language", ["fr", "ar", "zh-hans"])
def test_convocation_pdf_has_both_languages_and_a_qr_code(stories, language):
    story = stories[language]
    story.request.postal_address = "12 rue de la Paix\n93000 Bobigny"
    pdf = render_letter_pdf(message_for(story, "appointment_confirmed", "letter"))
    assert pdf.startswith(b"%PDF")
    text = read_pdf.text(pdf)
    assert "Votre rendez-vous est confirmé" in text
    assert story.request.reference in text
    assert read_pdf.page_count(pdf) == (1 if language == "fr" else 2)
    if language in SCRIPT:
        assert SCRIPT[language].search(text)
    # The QR code carries the address of the convocation check, also printed under it for those without
    # a scanner; it has a text alternative (PDF/UA).
    check = f"/fr/convocation/{story.request.reference}/{story.appointment.pk}/"
    assert check in re.sub(r"\s+", "", text)
    codes = read_pdf.qr_codes(pdf)  # one per language of the letter
    assert len(codes) == read_pdf.page_count(pdf) and all(code.endswith(check) for code in codes)
    assert all(figure["alt"] for figure in read_pdf.figures(pdf))
    assert "data:image/svg+xml" in letter_html(message_for(story, "appointment_confirmed", "letter"))


def test_every_kind_the_code_notifies_has_its_templates():
    """A service that notifies a kind without templates would see its messages fail: catch it here."""
    from pathlib import Path

    from django.conf import settings
    from django.template.loader import get_template

    root = Path(settings.BASE_DIR) / "guichet"
    called = set()
    for path in root.rglob("*.py"):
        called |= set(re.findall(r"""notify(?:_many)?\(\s*\w+,\s*["'](\w+)["']""", path.read_text()))
    assert {"received", "offer_made", "appointment_confirmed"} <= called | set(KINDS)
    assert called <= set(KINDS), called - set(KINDS)
    for kind in KINDS:
        for name in ("email/{}.subject.txt", "parts/{}.txt", "parts/{}.html", "sms/{}.txt"):
            get_template("notifications/" + name.format(kind))


def test_paused_after_a_missed_appointment_says_so(world):
    story = make_story(world)
    message = message_for(story, "paused", "email")
    message.context = {"appointment_id": story.appointment.pk}
    missed = "Vous n'êtes pas venu à votre rendez-vous du mardi 10 mars 2026 à 09:30."
    assert missed in render_email(message).text
    message.context = {"consecutive_lapses": 2}
    assert "Vous n'avez pas répondu à deux propositions de rendez-vous." in render_email(message).text
