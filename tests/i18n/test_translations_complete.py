"""Translations: every string an applicant reads exists in the eight languages; the .mo files are current.

French is the default language: every string, staff pages included, has a French translation. English needs
none (the msgids are English). The other six languages are checked on everything that is not staff-only.
"""

import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

from tests import system

LOCALE = Path(settings.BASE_DIR) / "locale"
FOLDERS = {"fr": "fr", "ar": "ar", "es": "es", "ru": "ru", "uk": "uk", "zh-hans": "zh_Hans", "tr": "tr"}
# Pages only staff and partner organisations see: French is enough there.
STAFF_ONLY = (
    "guichet/backoffice/",
    "guichet/accounts/",
    "guichet/partners/",
    "guichet/operations/",
    "guichet/capacity/alerts.py",
    "guichet/allocation/late_risk.py",
    "guichet/evidence/court_orders.py",
    # Reception and the counter: agents' pages and the services' answers to them. The waiting-room screen,
    # the interim documents' PDFs and the messages to the person are public.
    "guichet/reception/templates/reception/staff/",
    "guichet/reception/views.py",
    "guichet/reception/views_file.py",
    "guichet/reception/forms.py",
    "guichet/reception/models.py",
    "guichet/reception/access.py",
    "guichet/reception/scan.py",
    "guichet/reception/services.py",
    "guichet/reception/calls.py",
    "guichet/reception/outcomes.py",
    "guichet/reception/interim.py",
    "guichet/reception/decisions.py",
    "guichet/api/reception_api.py",
    "guichet/dossiers/views/staff.py",
    "guichet/dossiers/staff_forms.py",
    "guichet/dossiers/publishing.py",
    "guichet/residence/staff_views.py",
    "guichet/dossiers/templates/dossiers/staff/",
)
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdf]|\{(\w*)\}")
NPLURALS = {"fr": 2, "ar": 6, "es": 2, "ru": 3, "uk": 3, "zh-hans": 1, "tr": 2}


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / FOLDERS[language] / "LC_MESSAGES" / "django.po"))


def is_public(entry: polib.POEntry) -> bool:
    return any(not path.startswith(STAFF_ONLY) for path, _line in entry.occurrences)


def placeholders(text: str) -> set[str]:
    return {match.group(0) for match in PLACEHOLDER.finditer(text)}


def forms(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


@pytest.mark.parametrize("language", list(FOLDERS))
def test_every_string_is_translated(language):
    po = catalogue(language)
    assert len(po) > 100, "the catalogue looks empty: run makemessages"
    missing, broken = [], []
    for entry in po:
        if entry.obsolete or (language != "fr" and not is_public(entry)):
            continue
        translations = forms(entry)
        if "fuzzy" in entry.flags or not all(text.strip() for text in translations):
            missing.append(entry.msgid)
            continue
        if entry.msgid_plural and len(translations) != NPLURALS[language]:
            broken.append(f"{entry.msgid!r}: {len(translations)} plural forms")
        expected = placeholders(entry.msgid) | placeholders(entry.msgid_plural or "")
        for text in translations:
            # A plural form may leave out the number (Arabic's "two days" is one word); never add one.
            found = placeholders(text)
            if not found <= expected or (not entry.msgid_plural and found != expected):
                broken.append(f"{entry.msgid!r} -> {text!r}")
    assert not missing, f"{len(missing)} strings without a {language} translation, e.g. {missing[:10]}"
    assert not broken, f"wrong placeholders or plural forms in {language}: {broken[:10]}"


@pytest.mark.parametrize("language", list(FOLDERS))
def test_the_plural_rule_is_the_languages_own(language):
    assert f"nplurals={NPLURALS[language]};" in catalogue(language).metadata["Plural-Forms"].replace(" ", "")


@pytest.mark.parametrize("language", [*FOLDERS, "en"])
def test_the_compiled_catalogue_matches_the_po_file(language):
    """The .mo files are committed (a fresh machine may lack msgfmt): they must say what the .po says."""
    folder = LOCALE / FOLDERS.get(language, language) / "LC_MESSAGES"
    po = polib.pofile(str(folder / "django.po"))
    with open(folder / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog
    expected = {}
    for entry in po.translated_entries():
        if "fuzzy" in entry.flags:
            continue
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        if entry.msgid_plural:
            for index, text in entry.msgstr_plural.items():
                expected[(key, int(index))] = text
        else:
            expected[key] = entry.msgstr
    actual = {key: value for key, value in compiled.items() if key != ""}
    stale = sorted(str(key) for key in set(expected) | set(actual) if expected.get(key) != actual.get(key))
    assert not stale, f"{language}: django.mo differs from django.po (run compilemessages): {stale[:5]}"


@system.needs(shutil.which("xgettext") is not None, reason="needs xgettext: apt-get install gettext")
def test_every_string_in_the_sources_is_in_the_catalogue(tmp_path):
    """A string added to a page or a message without running makemessages has no translation: catch it."""
    copy = tmp_path / "tree"
    shutil.copytree(
        settings.BASE_DIR / "guichet", copy / "guichet", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    shutil.copy(settings.BASE_DIR / "manage.py", copy / "manage.py")
    (copy / "locale").mkdir()
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-obsolete", "--no-location"],
        cwd=copy,
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "SECRET_KEY": "x",
            "IDENTITY_HMAC_KEY": "y",
            "DATABASE_URL": "sqlite://",
        },
    )
    assert result.returncode == 0, result.stderr
    fresh = polib.pofile(str(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po"))
    known = {(entry.msgctxt, entry.msgid) for entry in catalogue("fr") if not entry.obsolete}
    new = [entry.msgid for entry in fresh if (entry.msgctxt, entry.msgid) not in known]
    assert not new, f"{len(new)} strings are not in locale/ yet (run makemessages and translate): {new[:10]}"
