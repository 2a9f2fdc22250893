"""Who may see and change what. Every page, API route and export asks these functions.

Staff act within the prefectures they are members of, with the role of that membership (agent < manager <
prefecture administrator). The platform administrator manages prefectures and accounts but sees no
applicant unless also a member of that prefecture (data minimisation). A partner member sees only the
requests on which their organisation holds an active mandate.

Every check needs a verified session (password and second factor) for pages, or a valid API token.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from guichet.catalog.models import Prefecture
from guichet.evidence.audit import Actor
from guichet.partners.models import PartnerMember
from guichet.waitlist.models import AppointmentRequest

from .models import ROLE_RANK, Membership, Role, StaffProfile

# Set in the session once the second factor is checked: a session opened elsewhere (the Django admin)
# without it never reaches staff or partner pages.
SESSION_2FA_KEY = "guichet_2fa_verified"

# When a request is authenticated by an API token, the token is put here; its scope narrows the checks.
_TOKEN_ATTR = "guichet_api_token"  # noqa: S105 — an attribute name


def _active(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def profile(user) -> StaffProfile | None:
    if not _active(user):
        return None
    try:
        return user.guichet
    except StaffProfile.DoesNotExist:
        return None


def is_platform_admin(user) -> bool:
    # Asked of the database, not of a profile cached on the user object, so a change applies at once.
    if not _active(user) or _scope(user) is not None:
        return False  # API tokens carry a prefecture's or an organisation's rights, never the platform's
    return StaffProfile.objects.filter(user=user, is_platform_admin=True).exists()


def _scope(user):
    """The API token the user is acting through, if any (set by the API's authentication)."""
    return getattr(user, _TOKEN_ATTR, None)


def memberships(user) -> QuerySet[Membership]:
    if not _active(user):
        return Membership.objects.none()
    found = Membership.objects.filter(user=user).select_related("prefecture")
    token = _scope(user)
    if token is not None:
        if token.prefecture_id is None:
            return Membership.objects.none()
        found = found.filter(prefecture_id=token.prefecture_id)
    return found


def role_in(user, prefecture: Prefecture | int) -> str | None:
    prefecture_id = prefecture if isinstance(prefecture, int) else prefecture.pk
    membership = memberships(user).filter(prefecture_id=prefecture_id).first()
    return membership.role if membership else None


def has_role(user, prefecture: Prefecture | int, role: str = Role.AGENT) -> bool:
    found = role_in(user, prefecture)
    return found is not None and ROLE_RANK[Role(found)] >= ROLE_RANK[Role(role)]


def require_role(user, prefecture: Prefecture | int, role: str = Role.AGENT) -> None:
    """Raise PermissionDenied (HTTP 403) unless the user holds `role` or higher in `prefecture`."""
    if not has_role(user, prefecture, role):
        raise PermissionDenied


def prefectures_for(user, role: str = Role.AGENT) -> QuerySet[Prefecture]:
    """The prefectures where the user holds `role` or higher."""
    allowed = [name for name, rank in ROLE_RANK.items() if rank >= ROLE_RANK[Role(role)]]
    ids = memberships(user).filter(role__in=allowed).values_list("prefecture_id", flat=True)
    return Prefecture.objects.filter(pk__in=list(ids))


def can_access_prefecture(user, prefecture: Prefecture | int) -> bool:
    """Any staff role in the prefecture: what evidence pages (court orders, exports) ask."""
    return has_role(user, prefecture, Role.AGENT)


def staff_emails(prefecture: Prefecture | int, role: str = Role.MANAGER) -> list[str]:
    """Email addresses of the active staff of a prefecture holding `role` or higher (alerts, reports)."""
    prefecture_id = prefecture if isinstance(prefecture, int) else prefecture.pk
    allowed = [name for name, rank in ROLE_RANK.items() if rank >= ROLE_RANK[Role(role)]]
    emails = (
        Membership.objects.filter(prefecture_id=prefecture_id, role__in=allowed, user__is_active=True)
        .exclude(user__email="")
        .order_by("user_id")
        .values_list("user__email", flat=True)
    )
    return list(dict.fromkeys(emails))


def is_staff_member(user) -> bool:
    return memberships(user).exists()


def partner_member(user):
    """The user's active membership of an approved organisation, or None."""

    if not _active(user):
        return None
    member = (
        PartnerMember.objects.select_related("organisation")
        .filter(user=user, is_active=True, organisation__status="approved")
        .first()
    )
    if member is None:
        return None
    token = _scope(user)
    if token is not None and token.organisation_id != member.organisation_id:
        return None
    return member


def visible_requests(user) -> QuerySet[AppointmentRequest]:
    """Every request the user may read: their prefectures' as staff, their clients' as a partner."""
    staff_prefectures = list(memberships(user).values_list("prefecture_id", flat=True))
    if staff_prefectures:
        return AppointmentRequest.objects.filter(prefecture_id__in=staff_prefectures)
    member = partner_member(user)
    if member is not None:
        return AppointmentRequest.objects.filter(
            mandates__organisation_id=member.organisation_id, mandates__status="active"
        ).distinct()
    return AppointmentRequest.objects.none()


def can_access_request(user, request: AppointmentRequest) -> bool:
    """Staff of the request's prefecture, or a partner whose organisation holds an active mandate on it.

    This is the check for proofs, court files and every page about one request.
    """
    if can_access_prefecture(user, request.prefecture_id):
        return True
    member = partner_member(user)
    return (
        member is not None
        and request.mandates.filter(organisation_id=member.organisation_id, status="active").exists()
    )


def require_request_access(user, request: AppointmentRequest) -> None:
    if not can_access_request(user, request):
        raise PermissionDenied


def actor_for(user) -> Actor:
    """How the audit log names this user: staff:<username> or partner:<username>@<organisation id>.

    The one helper every service uses. It names who acts, whatever their rights at that moment: the member
    who applies for a still pending organisation (an inactive account) is already username@organisation."""
    member = None
    if not is_staff_member(user):
        member = PartnerMember.objects.filter(user=user).order_by("-is_active", "pk").first()
    if member is not None:
        return Actor("partner", label=f"{user.get_username()}@{member.organisation_id}", user_id=user.pk)
    return Actor("staff", label=user.get_username(), user_id=user.pk)
