"""Staff pages exist in French and English only: under any other language prefix (/ar/staff/…) they are
French and marked lang="fr" dir="ltr", never French text inside a page that claims to be Arabic."""

import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tests.backoffice.helpers import staff, verified_login
from tests.backoffice.test_isolation import staff_patterns

pytestmark = pytest.mark.django_db

OTHER_LANGUAGES = [code for code, _name in settings.LANGUAGES if code not in settings.STAFF_LANGUAGES]
HTML_TAG = re.compile(r"<html lang=\"([^\"]+)\" dir=\"([^\"]+)\"")


def marking(response) -> tuple[str, str]:
    return HTML_TAG.search(response.content.decode()).groups()


def url_in(language: str, name: str, *args) -> str:
    with translation.override(language):
        return reverse(name, args=args)


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_login_page_under_another_prefix_is_french_and_left_to_right(client, language):
    url = url_in(language, "backoffice:login")
    assert url.startswith(f"/{language}/staff/")
    response = client.get(url)
    assert response.status_code == 200
    assert marking(response) == ("fr", "ltr")
    assert "Espace agents : connexion" in response.content.decode()
    # Its form and links lead to the French addresses.
    assert 'action="/fr/staff/login/"' in response.content.decode()


@pytest.mark.parametrize("language", settings.STAFF_LANGUAGES)
def test_staff_languages_are_served_as_asked(client, language):
    response = client.get(url_in(language, "backoffice:login"))
    assert marking(response) == (language, "ltr")


def test_language_switcher_of_a_staff_page_offers_the_staff_languages_only(client):
    content = client.get(url_in("ar", "backoffice:login")).content.decode()
    switcher = content.split('class="lang-bar"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/fr/staff/login/"' in switcher and 'href="/en/staff/login/"' in switcher
    for code in OTHER_LANGUAGES:
        assert f'hreflang="{code}"' not in switcher


def test_public_pages_keep_every_language(client):
    response = client.get(url_in("ar", "public:home"))
    assert marking(response) == ("ar", "rtl")
    switcher = response.content.decode().split('class="lang-bar"', 1)[1].split("</nav>", 1)[0]
    for code, _name in settings.LANGUAGES:
        assert f'hreflang="{code}"' in switcher


def test_every_staff_page_a_manager_opens_under_arabic_is_marked_french(client, prefecture):
    """Walks every staff URL that needs no argument or only the prefecture's code, as a prefecture
    administrator (who has every role of the prefecture)."""
    verified_login(client, staff(prefecture, "prefecture_admin"))
    opened = 0
    for name, converters in staff_patterns():
        if converters == []:
            url = url_in("ar", name)
        elif converters == ["code"]:
            url = url_in("ar", name, prefecture.code)
        else:
            continue
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        opened += 1
        assert marking(response) == ("fr", "ltr"), url
    assert opened >= 6
