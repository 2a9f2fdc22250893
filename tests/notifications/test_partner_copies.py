"""Organisations acting for a person under a mandate get a copy of each notice, without the private link."""

import pytest
from django.utils import timezone

from guichet.notifications.models import MessageChannel, OutboxMessage
from guichet.notifications.rendering import render_email
from guichet.notifications.services import notify
from guichet.partners import services as partners
from tests.backoffice.helpers import file, partner

pytestmark = pytest.mark.django_db


def test_a_partner_gets_a_copy_without_the_private_link(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    organisation, member = partner(world.prefecture, name="Cimade")
    request = file(world, family="Copie", language="ar")
    partners.create_mandate(
        organisation, request, by=member, consent_given_on=timezone.localdate(), consent_method="phone"
    )

    notify(request, "received", {"due_date": request.due_date.isoformat(), "access_token": "secret-token"})

    copy = OutboxMessage.objects.get(recipient=organisation.email)
    assert copy.channel == MessageChannel.EMAIL
    assert copy.language == "fr"
    assert "access_token" not in copy.context
    rendered = render_email(copy)
    assert "secret-token" not in rendered.text
    assert "Copie pour la structure partenaire qui agit pour cette personne avec un mandat." in rendered.text
    own = OutboxMessage.objects.filter(request=request, recipient=request.email).latest("id")
    assert own.context["access_token"] == "secret-token"  # noqa: S105 (a test value)


def test_no_copy_without_an_active_mandate(world):
    request = file(world, family="Seule")
    before = OutboxMessage.objects.count()
    notify(request, "withdrawn", {})
    assert OutboxMessage.objects.count() - before == 1
