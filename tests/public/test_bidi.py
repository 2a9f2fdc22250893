"""Arabic pages and messages keep references, times and figure dates whole (left-to-right isolates).

Without them the bidirectional algorithm shows "93-K7M4-QX9T" as "K7M4-QX9T-93" inside an Arabic sentence.
"""

import pytest
from django.utils import translation

from guichet.bidi import isolate
from guichet.evidence.models import Proof
from guichet.public.templatetags.guichet_ui import ltr
from tests.public.scenario import file

pytestmark = pytest.mark.django_db


def test_plain_text_isolates_only_in_right_to_left_languages():
    with translation.override("ar"):
        assert isolate("93-K7M4-QX9T") == "\u206693-K7M4-QX9T\u2069"
    with translation.override("fr"):
        assert isolate("93-K7M4-QX9T") == "93-K7M4-QX9T"  # a French SMS keeps its cheaper alphabet
    assert ltr("<b>") == '<bdi dir="ltr">&lt;b&gt;</bdi>'


def test_the_arabic_request_page_and_proof_wrap_the_reference_and_times(client, world):
    filed = file(world, language="ar")
    html = client.get(filed.url(language="ar")).content.decode()
    assert f'<bdi dir="ltr">{filed.reference}</bdi>' in html
    assert html.count('<bdi dir="ltr">') >= 2  # the reference and the time of each step of the history
    proof = Proof.objects.filter(request=filed.request).first()
    page = client.get(f"/ar/proofs/{proof.pk}/?token={filed.token}")
    assert page.status_code == 200
    assert f'<bdi dir="ltr">{filed.reference}</bdi>' in page.content.decode()


def test_arabic_messages_isolate_short_dates_and_times(world):
    from guichet.notifications.content import _moment

    filed = file(world, language="ar")
    with translation.override("ar"):
        moment = _moment(filed.request.received_at, world.prefecture.tzinfo)
    assert moment["short_date"].startswith("\u2066") and moment["time"].endswith("\u2069")
    with translation.override("fr"):
        assert "\u2066" not in _moment(filed.request.received_at, world.prefecture.tzinfo)["time"]
