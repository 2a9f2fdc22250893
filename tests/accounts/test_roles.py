"""Roles: agent < manager < prefecture administrator, per prefecture; the platform administrator manages
accounts but sees no applicant; every account change is audited."""

import pytest
from django.core.exceptions import PermissionDenied

from guichet.accounts import permissions, services
from guichet.accounts.models import Membership, Role
from guichet.errors import Conflict, Forbidden, InvalidInput
from guichet.evidence.models import AuditEntry
from tests.backoffice.helpers import PASSWORD, account, file, partner, staff
from tests.factories import prefecture as make_prefecture
from tests.factories import world as make_world

pytestmark = pytest.mark.django_db


def test_roles_are_ranked_within_each_prefecture(prefecture):
    paris = make_prefecture("75", "Paris")
    user = staff(prefecture, "manager")
    Membership.objects.create(user=user, prefecture=paris, role="agent")
    assert permissions.has_role(user, prefecture, Role.AGENT)
    assert permissions.has_role(user, prefecture, Role.MANAGER)
    assert not permissions.has_role(user, prefecture, Role.PREFECTURE_ADMIN)
    assert permissions.has_role(user, paris, Role.AGENT) and not permissions.has_role(
        user, paris, Role.MANAGER
    )
    assert set(permissions.prefectures_for(user)) == {prefecture, paris}
    assert list(permissions.prefectures_for(user, Role.MANAGER)) == [prefecture]
    with pytest.raises(PermissionDenied):
        permissions.require_role(user, paris, Role.MANAGER)
    permissions.require_role(user, prefecture, Role.MANAGER)


def test_inactive_accounts_have_no_rights(prefecture):
    user = staff(prefecture, "prefecture_admin")
    user.is_active = False
    user.save()
    assert not permissions.has_role(user, prefecture)
    assert not permissions.prefectures_for(user).exists()


def test_visible_requests_follow_the_memberships(world):
    other = make_world("75")
    here, there = file(world, family="Here"), file(other, family="There")
    agent = staff(world.prefecture)
    assert list(permissions.visible_requests(agent)) == [here]
    assert permissions.can_access_request(agent, here) and not permissions.can_access_request(agent, there)
    platform = account()
    services.set_platform_admin(platform, True, by=None)
    assert not permissions.visible_requests(platform).exists()  # data minimisation


def test_administrators_manage_their_prefecture_only(prefecture):
    paris = make_prefecture("75", "Paris")
    admin = staff(prefecture, "prefecture_admin")
    manager = staff(prefecture, "manager")
    newcomer = account()
    with pytest.raises(Forbidden):
        services.set_membership(newcomer, prefecture, Role.AGENT, by=manager)
    with pytest.raises(Forbidden):
        services.set_membership(newcomer, paris, Role.AGENT, by=admin)
    services.set_membership(newcomer, prefecture, Role.MANAGER, by=admin)
    assert permissions.role_in(newcomer, prefecture) == Role.MANAGER
    entry = AuditEntry.objects.get(chain=prefecture.code, action="account.role_set")
    assert entry.actor == f"staff:{admin.username}" and entry.data["role"] == "manager"
    with pytest.raises(InvalidInput):
        services.set_membership(newcomer, prefecture, "superuser", by=admin)
    services.remove_membership(newcomer, prefecture, by=admin)
    assert permissions.role_in(newcomer, prefecture) is None


def test_the_platform_administrator_names_prefecture_administrators(prefecture):
    platform = account()
    services.set_platform_admin(platform, True, by=None)
    user = account()
    services.set_membership(user, prefecture, Role.PREFECTURE_ADMIN, by=platform)
    assert permissions.has_role(user, prefecture, Role.PREFECTURE_ADMIN)
    with pytest.raises(Forbidden):
        services.set_platform_admin(account(), True, by=user)


def test_a_partner_account_cannot_become_staff(prefecture):
    _organisation, member = partner(prefecture)
    with pytest.raises(Conflict):
        services.set_membership(member, prefecture, Role.AGENT, by=None)


def test_accounts_need_a_good_password_and_a_free_username(db):
    with pytest.raises(InvalidInput) as error:
        services.create_account("bad name!", password="123")  # noqa: S106
    assert {"username", "password"} <= set(error.value.fields)
    services.create_account("jeanne", password=PASSWORD)
    with pytest.raises(InvalidInput):
        services.create_account("JEANNE", password=PASSWORD)


def test_audit_names_staff_and_partners(prefecture):
    agent = staff(prefecture, username="agent-007")
    organisation, member = partner(prefecture, username="asso-member")
    assert str(permissions.actor_for(agent)) == "staff:agent-007"
    assert str(permissions.actor_for(member)) == f"partner:asso-member@{organisation.pk}"
    assert permissions.staff_emails(prefecture, Role.AGENT) == [agent.email]
    assert permissions.staff_emails(prefecture) == []
