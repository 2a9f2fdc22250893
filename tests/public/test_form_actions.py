"""Forms name where they post (action="" is invalid HTML), and no two staff shortcuts share an access key."""

import re
from collections import Counter

import pytest
from django.urls import reverse

from tests.backoffice.helpers import staff, verified_login
from tests.public.scenario import file

pytestmark = pytest.mark.django_db


def test_public_forms_post_to_a_named_address(client, world):
    procedure = world.procedures["first"]
    filed = file(world)
    pages = [
        f"/fr/procedures/{world.prefecture.code}/{procedure.code}/request/",
        "/fr/status/",
        filed.url("contact"),
        filed.url("withdraw"),
    ]
    for page in pages:
        html = client.get(page).content.decode()
        assert "<form" in html, page
        assert 'action=""' not in html, page
        assert all(action for action in re.findall(r'<form[^>]*action="([^"]*)"', html)), page


def test_staff_shortcuts_have_one_key_each(client, world):
    verified_login(client, staff(world.prefecture, username="agent-keys"))
    html = client.get(reverse("backoffice:search")).content.decode()
    keys = Counter(re.findall(r'accesskey="(.)"', html))
    assert keys and all(count == 1 for count in keys.values()), keys


def test_staff_navigation_names_each_link_once(client, world):
    # "Home" and "Reception" were both « Accueil » in French: two links of the same name to two pages.
    verified_login(client, staff(world.prefecture, "manager", username="manager-nav"))
    html = client.get(reverse("backoffice:search")).content.decode()
    nav = html[html.index('<nav class="bo-nav"') : html.index("</nav>", html.index('<nav class="bo-nav"'))]
    names = Counter(re.sub(r"\s+", " ", name).strip() for name in re.findall(r"<a [^>]*>([^<]+)</a>", nav))
    assert names and all(count == 1 for count in names.values()), names
