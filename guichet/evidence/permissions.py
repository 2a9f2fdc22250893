"""Who may see evidence: the applicant (by their access token), staff of the prefecture, partners.

Every evidence page and API route asks these functions and nothing else. Staff roles and tenants are the
back office's (guichet.accounts.permissions: a role in the prefecture, a verified second factor); where that
app is not installed, staff means an active `is_staff` or superuser account.
"""

from functools import wraps
from types import ModuleType

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import NoReverseMatch

from guichet.catalog.models import Prefecture
from guichet.waitlist.models import AppointmentRequest


def _roles() -> ModuleType | None:
    """The back office's roles, when installed."""
    if "guichet.accounts" not in settings.INSTALLED_APPS:
        return None
    try:
        from guichet.accounts import permissions as roles
    except ImportError:
        return None
    return roles


def _active(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def session_verified(http_request) -> bool:
    """Logged in, and (with the back office's accounts) past the second factor in this session."""
    if not _active(getattr(http_request, "user", None)):
        return False
    roles = _roles()
    if roles is None:
        return True
    return bool(http_request.session.get(roles.SESSION_2FA_KEY))


def is_staff_user(user) -> bool:
    """A member of the staff of at least one prefecture."""
    if not _active(user):
        return False
    roles = _roles()
    if roles is not None:
        return roles.is_staff_member(user)
    return bool(user.is_staff or user.is_superuser)


def can_access_prefecture(user, prefecture: Prefecture | int | None) -> bool:
    """May this user see and act on this prefecture's requests, court orders and alerts?"""
    if prefecture is None or not _active(user):
        return False
    roles = _roles()
    if roles is not None:
        return roles.can_access_prefecture(user, prefecture)
    return bool(user.is_staff or user.is_superuser)


def can_manage_court_orders(user, prefecture: Prefecture | int) -> bool:
    """Recording a court order and opening an extra slot: a manager's act."""
    roles = _roles()
    if roles is not None and _active(user):
        from guichet.accounts.models import Role

        return roles.has_role(user, prefecture, Role.MANAGER)
    return can_access_prefecture(user, prefecture)


def visible_prefecture_ids(user) -> list[int] | None:
    """The prefectures whose alerts and orders a staff user sees; None means all of them."""
    if not is_staff_user(user):
        return []
    roles = _roles()
    if roles is not None:
        return list(roles.memberships(user).values_list("prefecture_id", flat=True))
    return None


def can_access_as_staff_or_partner(user, request: AppointmentRequest) -> bool:
    """Staff of the request's prefecture, or a partner organisation with an active mandate for it."""
    if not _active(user):
        return False
    roles = _roles()
    if roles is not None:
        return roles.can_access_request(user, request)
    return can_access_prefecture(user, request.prefecture)


def token_matches(request: AppointmentRequest, token: str | None) -> bool:
    """The applicant's secret access token (or a short-lived key from the public pages), compared safely."""
    if not token or not isinstance(token, str) or len(token) > 200:
        return False
    from guichet.waitlist.references import token_matches as hash_matches

    if "." in token:
        # A signed, short-lived key given by the public look-up (reference + birth date).
        try:
            from guichet.public.access import resolve
        except ImportError:
            return False
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
    from guichet.accounts.models import AccessChannel, AccessKind
    from guichet.accounts.services import record_access

    record_access(
        http_request.user, AccessKind.OPENED, channel=AccessChannel.PAGE, request=request, detail=what
    )


def alert_recipients(prefecture: Prefecture) -> list[str]:
    """Who gets a court-order alert by email: the prefecture's contact address and its managers."""
    from django.contrib.auth import get_user_model

    emails = [prefecture.contact_email] if prefecture.contact_email else []
    roles = _roles()
    if roles is not None:
        emails += roles.staff_emails(prefecture)
    else:
        emails += list(
            get_user_model()
            .objects.filter(is_active=True, is_staff=True)
            .exclude(email="")
            .order_by("pk")
            .values_list("email", flat=True)
        )
    return list(dict.fromkeys(emails))


def staff_required(view):
    """A verified staff member; anonymous visitors go to the login page, others get 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not session_verified(request):
            try:
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            except NoReverseMatch:
                raise PermissionDenied from None
        if not is_staff_user(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
