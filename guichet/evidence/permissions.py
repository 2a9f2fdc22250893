"""Who may see evidence: the applicant (by their access token), staff of the prefecture, partners.

Every evidence page and API route, and the court-order alerts, ask these functions. Staff roles and tenants
are the back office's (guichet.accounts.permissions: a role in the prefecture, a verified second factor);
the court-order pages are the back office's and use its decorators.
"""

from guichet.accounts import permissions as roles
from guichet.accounts.models import AccessChannel, AccessKind
from guichet.accounts.services import record_access
from guichet.catalog.models import Prefecture
from guichet.waitlist.access import resolve
from guichet.waitlist.models import AppointmentRequest
from guichet.waitlist.references import token_matches as hash_matches


def _active(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def session_verified(http_request) -> bool:
    """Logged in and past the second factor in this session."""
    if not _active(getattr(http_request, "user", None)):
        return False
    return bool(http_request.session.get(roles.SESSION_2FA_KEY))


def is_staff_user(user) -> bool:
    """A member of the staff of at least one prefecture."""
    return _active(user) and roles.is_staff_member(user)


def can_access_prefecture(user, prefecture: Prefecture | int | None) -> bool:
    """May this user see and act on this prefecture's requests, court orders and alerts?"""
    if prefecture is None or not _active(user):
        return False
    return roles.can_access_prefecture(user, prefecture)


def visible_prefecture_ids(user) -> list[int]:
    """The prefectures whose alerts and orders a staff user sees."""
    if not is_staff_user(user):
        return []
    return list(roles.memberships(user).values_list("prefecture_id", flat=True))


def can_access_as_staff_or_partner(user, request: AppointmentRequest) -> bool:
    """Staff of the request's prefecture, or a partner organisation with an active mandate for it."""
    return _active(user) and roles.can_access_request(user, request)


def token_matches(request: AppointmentRequest, token: str | None) -> bool:
    """The applicant's secret access token (or a short-lived key from the public pages), compared safely."""
    if not token or not isinstance(token, str) or len(token) > 200:
        return False
    if "." in token:
        # A signed, short-lived key given by the public look-up (reference + birth date).
        found = resolve(request.reference, token)
        return found is not None and found.pk == request.pk
    return hash_matches(token, request.access_token_hash)


def can_read_request(http_request, request: AppointmentRequest, token: str | None) -> bool:
    """The applicant with their token; staff of the request's prefecture or a partner with a mandate, in
    a verified session."""
    if token_matches(request, token):
        return True
    return session_verified(http_request) and can_access_as_staff_or_partner(http_request.user, request)


def record_read(http_request, request: AppointmentRequest, token: str | None, what: str) -> None:
    """Log that staff or a partner read this request's evidence (R27: logged agent access); the applicant's
    own reads, with their token, are not logged."""
    if token_matches(request, token) or not http_request.user.is_authenticated:
        return

    record_access(
        http_request.user, AccessKind.OPENED, channel=AccessChannel.PAGE, request=request, detail=what
    )


def alert_recipients(prefecture: Prefecture) -> list[str]:
    """Who gets a court-order alert by email: the prefecture's contact address and its managers."""
    emails = [prefecture.contact_email] if prefecture.contact_email else []
    emails += roles.staff_emails(prefecture)
    return list(dict.fromkeys(emails))
