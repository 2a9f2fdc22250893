"""An organisation applies; a prefecture administrator approves it; its members log in with 2FA."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from guichet.errors import Conflict, Forbidden, InvalidInput
from guichet.evidence.models import AuditEntry
from guichet.partners import services
from guichet.partners.models import OrganisationStatus, PartnerOrganisation
from tests.backoffice.helpers import PASSWORD, partner, staff, verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def apply_form(prefecture, **extra):
    data = {
        "prefecture": prefecture.pk,
        "name": "La Cimade Bobigny",
        "kind": "association",
        "registration_number": "W931000000",
        "email": "bobigny@cimade.example.org",
        "phone": "",
        "address": "",
        "contact_username": "cimade-bobigny",
        "contact_email": "permanence@cimade.example.org",
        "contact_password": PASSWORD,
    }
    data.update(extra)
    return data


def test_apply_then_approve_then_log_in(client, prefecture):
    response = client.post(reverse("backoffice:partner_apply"), apply_form(prefecture))
    assert response.status_code == 200 and "Application received" in response.content.decode()
    organisation = PartnerOrganisation.objects.get(name="La Cimade Bobigny")
    assert organisation.status == OrganisationStatus.PENDING
    member = organisation.members.get()
    assert member.is_admin and not member.user.is_active

    # Not approved yet: the password is refused like a wrong one.
    login = client.post(reverse("backoffice:login"), {"username": "cimade-bobigny", "password": PASSWORD})
    assert login.status_code == 400

    admin = staff(prefecture, "prefecture_admin")
    verified_login(client, admin)
    detail = reverse("backoffice:partner_detail", args=[prefecture.code, organisation.pk])
    assert (
        "La Cimade Bobigny"
        in client.get(reverse("backoffice:partner_list", args=[prefecture.code])).content.decode()
    )
    assert client.post(detail, {"decision": "approve", "reason": ""}).status_code == 302
    organisation.refresh_from_db()
    assert organisation.status == OrganisationStatus.APPROVED and organisation.decided_by == admin
    assert AuditEntry.objects.filter(action="partner.approved", chain=prefecture.code).exists()
    client.logout()

    login = client.post(reverse("backoffice:login"), {"username": "cimade-bobigny", "password": PASSWORD})
    assert login["Location"] == reverse("backoffice:enrol")  # 2FA is required for partners too


def test_application_errors_are_precise(client, prefecture):
    partner(prefecture, name="Taken")
    response = client.post(
        reverse("backoffice:partner_apply"),
        apply_form(prefecture, name="Taken", contact_password="short"),  # noqa: S106
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "already applied" in html
    errors = response.context["form"].errors
    assert "name" in errors and "contact_password" in errors
    assert PartnerOrganisation.objects.filter(name="Taken").count() == 1


def test_applications_from_one_address_are_limited(client, prefecture):
    for number in range(5):
        client.post(
            reverse("backoffice:partner_apply"),
            apply_form(prefecture, name=f"Org {number}", contact_username=f"u{number}"),
        )
    response = client.post(
        reverse("backoffice:partner_apply"), apply_form(prefecture, name="Org 6", contact_username="u6")
    )
    assert response.status_code == 429
    assert not PartnerOrganisation.objects.filter(name="Org 6").exists()


def test_only_an_administrator_of_that_prefecture_decides(prefecture):
    from tests.factories import prefecture as make_prefecture

    organisation = services.apply(
        prefecture,
        name="Avocats 93",
        kind="lawyer",
        email="a@example.org",
        contact_username="avocat",
        contact_password=PASSWORD,
    )
    agent = staff(prefecture, "manager")
    other_admin = staff(make_prefecture("75", "Paris"), "prefecture_admin")
    for user in (agent, other_admin):
        with pytest.raises(Forbidden):
            services.decide(organisation, approve=True, by=user)
    admin = staff(prefecture, "prefecture_admin")
    with pytest.raises(InvalidInput):
        services.decide(organisation, approve=False, by=admin, reason="")
    services.decide(organisation, approve=False, by=admin, reason="not an organisation helping foreigners")
    with pytest.raises(Conflict):
        services.decide(organisation, approve=True, by=admin)


def test_suspension_ends_the_members_access(client, prefecture):
    organisation, user = partner(prefecture)
    verified_login(client, user)
    assert client.get(reverse("backoffice:partner_home")).status_code == 200
    services.suspend(organisation, by=staff(prefecture, "prefecture_admin"), reason="complaints")
    assert client.get(reverse("backoffice:partner_home")).status_code == 403


def test_organisation_admin_adds_members(client, prefecture):
    organisation, admin_member = partner(prefecture)
    verified_login(client, admin_member)
    response = client.post(
        reverse("backoffice:partner_members"),
        {
            "username": "benevole",
            "email": "b@example.org",
            "password": PASSWORD,
            "first_name": "",
            "last_name": "",
        },
    )
    assert response.status_code == 302
    new = organisation.members.get(user__username="benevole")
    assert not new.is_admin
    client.logout()
    verified_login(client, new.user)
    forbidden = client.post(
        reverse("backoffice:partner_members"),
        {"username": "other", "email": "o@example.org", "password": PASSWORD},
    )
    assert forbidden.status_code == 403


def test_the_applicant_member_is_named_like_every_other_partner_act(prefecture):
    """One actor helper (accounts.permissions.actor_for): a partner is username@organisation in the audit
    chain from the application on, not a bare username there and username@organisation afterwards."""
    organisation = services.apply(
        prefecture,
        name="Avocats 93",
        kind="lawyer",
        email="a@example.org",
        contact_username="avocat",
        contact_password=PASSWORD,
    )
    entry = AuditEntry.objects.get(action="partner.applied")
    assert entry.actor == f"partner:avocat@{organisation.pk}"
