"""Tenant isolation: every staff URL and every staff API route, walked as a member of another prefecture
(and as a partner of another organisation), answers 403 or 404 for the other prefecture's objects; the
pages that are not about one object (home, search, account…) never show them.

The URL list is read from the resolver, so a page added later is walked too; a new URL argument that this
test cannot fill makes it fail until it is taught.
"""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from guichet.accounts.services import create_api_token
from guichet.api.staff_api import router
from guichet.appointments.models import Appointment, AppointmentStatus
from guichet.appointments.services import accept_offer
from guichet.backoffice.models import JobKind, JobState, StaffJob, job_files
from guichet.evidence.audit import APPLICANT
from guichet.evidence.models import Proof
from guichet.partners import services as partners
from guichet.privacy import services as privacy
from tests.appointments import builders
from tests.backoffice.helpers import file, partner, staff, verified_login
from tests.factories import world as make_world

pytestmark = pytest.mark.django_db

# Pages about no object of a prefecture: reachable by any verified account, or public; checked for leaks.
NOT_ABOUT_AN_OBJECT = {
    "backoffice:login",
    "backoffice:verify",
    "backoffice:enrol",
    "backoffice:logout",
    "backoffice:home",
    "backoffice:search",
    "backoffice:account",
    "backoffice:partner_apply",
    "backoffice:partner_home",
    "backoffice:partner_file",
    "backoffice:partner_attach",
    "backoffice:partner_members",
    "backoffice:court_orders",
    "backoffice:password_forgot",
    "backoffice:password_change",
    "backoffice:reenrol",
}


def staff_patterns():
    """(name, converters) of every URL of the back office, and every evidence URL for staff or about a
    request or proof (those pages are read by staff and partners too)."""
    found = []

    def walk(patterns, namespace, route_prefix):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = (
                    f"{namespace}:{entry.namespace}"
                    if namespace and entry.namespace
                    else (entry.namespace or namespace)
                )
                walk(entry.url_patterns, inner, route_prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern) and entry.name and namespace:
                route = route_prefix + str(entry.pattern)
                name = f"{namespace}:{entry.name}"
                if namespace == "backoffice" or (
                    namespace == "evidence" and ("staff/" in route or "<" in str(entry.pattern))
                ):
                    found.append((name, sorted(entry.pattern.converters)))

    walk(get_resolver().url_patterns, "", "")
    return found


@pytest.fixture
def victim(tmp_path, settings):
    """Prefecture 75 with a request that has everything: appointment, proofs, mandate, form, token."""
    settings.MEDIA_ROOT = tmp_path
    world = make_world("75")
    admin = staff(world.prefecture, "prefecture_admin", username="victim-admin")
    request = file(world, family="Victime", given="Secrète", foreign_national_number="9876543210")
    counter = world.counters[0]
    slot = builders.slot(
        counter, builders.at_local(counter, builders.weekday_after(timezone.localdate(), 10), 9)
    )
    accept_offer(builders.offer(request, slot), APPLICANT)
    appointment = Appointment.objects.get(request=request, status=AppointmentStatus.CONFIRMED)
    organisation, member_user = partner(world.prefecture, name="Victim org", username="victim-partner")
    from django.core.files.uploadedfile import SimpleUploadedFile

    mandate = partners.create_mandate(
        organisation,
        request,
        by=member_user,
        consent_given_on=timezone.localdate(),
        consent_method="signed_form",
        consent_form=SimpleUploadedFile("m.pdf", b"%PDF-1.4\n%%EOF\n"),
    )
    token, _raw = create_api_token(admin, name="victim token", prefecture=world.prefecture)
    job = StaffJob(
        kind=JobKind.PRINT_LETTERS, prefecture=world.prefecture, batch="waiting", requested_by=admin, total=1
    )
    job.result = job_files().save("jobs/letters-victim.pdf", ContentFile(b"%PDF-1.4\nVictime\n%%EOF\n"))
    job.state, job.done, job.summary = JobState.DONE, 1, "letters printed (1)"
    job.save()
    return {
        "job": job,
        "world": world,
        "request": request,
        "appointment": appointment,
        "mandate": mandate,
        "organisation": organisation,
        "member": organisation.members.get(),
        "admin": admin,
        "token": token,
        "proof": Proof.objects.filter(request=request).first(),
        "rights_request": privacy.ask(request, "erasure", "forget me"),
    }


def kwargs_for(converters, victim) -> dict:
    values = {
        "code": victim["world"].prefecture.code,
        "reference": victim["request"].reference,
        "appointment_id": victim["appointment"].pk,
        "mandate_id": victim["mandate"].pk,
        "organisation_id": victim["organisation"].pk,
        "user_id": victim["admin"].pk,
        "member_id": victim["member"].pk,
        "token_id": victim["token"].pk,
        "day": timezone.localdate().isoformat(),
        "pk": victim["proof"].pk,
        "kind": "rule",
        # A one-time password link: a wrong one opens nothing.
        "uidb64": "MQ",
        "token": "not-a-token",
        "object_id": victim["world"].counters[0].opening_rules.first().pk,
        "rights_id": victim["rights_request"].pk,
        "job_id": victim["job"].pk,
    }
    missing = [name for name in converters if name not in values]
    assert not missing, f"teach this test how to fill {missing}"
    return {name: values[name] for name in converters}


def secrets_of(victim) -> list[str]:
    # Not the family name: the search query echoes it (in the search box, in the language links).
    return [victim["request"].reference, "Secrète", "Victim org", "victim-admin"]


def assert_isolated(client, victim, label: str) -> None:
    patterns = staff_patterns()
    names = {name for name, _ in patterns}
    assert "backoffice:request" in names and "backoffice:queue" in names  # the walk found the pages
    leaks = []
    for name, converters in patterns:
        if not converters and name in NOT_ABOUT_AN_OBJECT:
            url = reverse(name)
            for method in ("get", "post"):
                if name == "backoffice:logout":
                    continue  # it would end the session of the walk
                response = getattr(client, method)(url, {"q": "Victime"} if method == "get" else {})
                body = response.content.decode(errors="replace") if not response.streaming else ""
                if response.status_code >= 500 or any(secret in body for secret in secrets_of(victim)):
                    leaks.append(
                        (
                            label,
                            method,
                            url,
                            response.status_code,
                            [s for s in secrets_of(victim) if s in body],
                        )
                    )
            continue
        url = reverse(name, kwargs=kwargs_for(converters, victim))
        for method in ("get", "post"):
            response = getattr(client, method)(
                url, {"reason": "probe", "revoked_by": "client", "circumstances": "x"}
            )
            if response.status_code not in (403, 404, 405):
                leaks.append((label, method, url, response.status_code))
            elif response.status_code == 405:
                # Only the other method exists; it was walked too.
                pass
    assert not leaks, leaks


def test_every_staff_page_refuses_a_member_of_another_prefecture(client, victim):
    attacker_world = make_world("93")
    for role in ("agent", "manager", "prefecture_admin"):
        attacker = staff(attacker_world.prefecture, role)
        verified_login(client, attacker)
        assert_isolated(client, victim, role)
        client.logout()


def test_every_staff_page_refuses_a_partner_of_another_organisation(client, victim):
    _organisation, attacker = partner(victim["world"].prefecture, name="Other org")
    verified_login(client, attacker)
    assert_isolated(client, victim, "partner")


def test_the_walk_would_see_a_leak(client, victim):
    """The control: the victim's own administrator does reach the pages."""
    verified_login(client, victim["admin"])
    url = reverse("backoffice:request", args=[victim["request"].reference])
    assert client.get(url).status_code == 200
    queue = client.get(reverse("backoffice:queue", args=[victim["world"].prefecture.code]))
    assert victim["request"].reference in queue.content.decode() or queue.status_code == 200


def api_calls(victim):
    values = {
        "reference": victim["request"].reference,
        "appointment_id": victim["appointment"].pk,
        "mandate_id": victim["mandate"].pk,
    }
    for path, view in router.path_operations.items():
        filled = path
        for name, value in values.items():
            filled = filled.replace("{" + name + "}", str(value))
        assert "{" not in filled, f"teach this test how to fill {path}"
        for operation in view.operations:
            for method in operation.methods:
                yield path, method, "/api/v1" + filled


def assert_api_isolated(client, victim, raw_token: str, label: str) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw_token}"}
    payload = {
        "reason": "probe",
        "revoked_by": "client",
        "circumstances": "x",
        "slot_id": 1,
        "reference": victim["request"].reference,
        # The reference alone (without the client's birth date) must not attach a mandate.
        "birth_date": "1970-01-01",
        "consent_given_on": timezone.localdate().isoformat(),
        "consent_method": "phone",
    }
    problems = []
    for path, method, url in api_calls(victim):
        if method == "GET":
            response = client.get(url, {"q": victim["request"].reference}, **auth)
        else:
            response = client.generic(
                method, url, data=__import__("json").dumps(payload), content_type="application/json", **auth
            )
        body = response.content.decode()
        object_route = "{" in path
        if object_route and response.status_code not in (403, 404):
            problems.append((label, method, path, response.status_code, body[:200]))
        if not object_route and (response.status_code >= 500 or any(s in body for s in secrets_of(victim))):
            problems.append((label, method, path, response.status_code, body[:200]))
        # Without a token, every route asks for one.
        if client.get(url).status_code != 401 and method == "GET":
            problems.append((label, "anonymous", path))
    assert not problems, problems


def test_every_staff_api_route_refuses_another_prefecture(client, victim):
    attacker_world = make_world("93")
    attacker = staff(attacker_world.prefecture, "prefecture_admin")
    _token, raw = create_api_token(attacker, name="probe", prefecture=attacker_world.prefecture)
    assert_api_isolated(client, victim, raw, "staff")


def test_every_staff_api_route_refuses_another_organisation(client, victim):
    organisation, attacker = partner(victim["world"].prefecture, name="Other org")
    _token, raw = create_api_token(attacker, name="probe", organisation=organisation)
    assert_api_isolated(client, victim, raw, "partner")


def test_a_token_of_one_prefecture_does_not_open_the_other_prefecture_of_its_owner(client, victim):
    """Scope: a person in two prefectures, with a token scoped to one, reaches only that one."""
    from guichet.accounts.models import Membership

    home_world = make_world("93")
    person = staff(home_world.prefecture, "agent")
    Membership.objects.create(user=person, prefecture=victim["world"].prefecture, role="agent")
    _token, raw = create_api_token(person, name="scoped", prefecture=home_world.prefecture)
    assert_api_isolated(client, victim, raw, "scoped")
    # The same person with a token of the victim's prefecture does see it: the control.
    _token, raw_victim = create_api_token(person, name="there", prefecture=victim["world"].prefecture)
    response = client.get(
        f"/api/v1/staff/requests/{victim['request'].reference}", HTTP_AUTHORIZATION=f"Bearer {raw_victim}"
    )
    assert response.status_code == 200


def test_exports_are_isolated_too(client, victim):
    """The letters print run and its reprints belong to one prefecture."""
    attacker_world = make_world("93")
    verified_login(client, staff(attacker_world.prefecture))
    day = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    code = victim["world"].prefecture.code
    assert client.post(reverse("backoffice:letters_print", args=[code])).status_code == 403
    assert client.post(reverse("backoffice:letters_reprint", args=[code, day])).status_code == 403
