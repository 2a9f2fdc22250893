"""Who may see evidence: the applicant (by their access token), staff of the prefecture, partners.

Every evidence page and API route asks these functions and nothing else, so that the back office can
point them at its roles (guichet.accounts.permissions) in one place. Until then staff means an active
`is_staff` or superuser account.
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import NoReverseMatch

from guichet.catalog.models import Prefecture
from guichet.waitlist.models import AppointmentRequest


def is_staff_user(user) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.is_staff or user.is_superuser)
    )


def can_access_prefecture(user, prefecture: Prefecture | int | None) -> bool:
    """May this user see and act on this prefecture's requests, court orders and alerts?"""
    return is_staff_user(user) and prefecture is not None


def can_manage_court_orders(user, prefecture: Prefecture | int) -> bool:
    """Recording a court order and opening an extra slot: a manager's act."""
    return can_access_prefecture(user, prefecture)


def visible_prefecture_ids(user) -> list[int] | None:
    """The prefectures whose alerts and orders a staff user sees; None means all of them."""
    if not is_staff_user(user):
        return []
    return None


def can_access_partner_copy(user, request: AppointmentRequest) -> bool:
    """A partner organisation acting for the applicant under a mandate (court files, proofs)."""
    try:
        from guichet.accounts.permissions import visible_requests
    except ImportError:
        return False
    if not getattr(user, "is_authenticated", False):
        return False
    try:
        return visible_requests(user).filter(pk=request.pk).exists()
    except Exception:
        return False


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


def can_read_request(user, request: AppointmentRequest, token: str | None) -> bool:
    """The applicant with their token, staff of the request's prefecture, or a partner with a mandate."""
    if token_matches(request, token):
        return True
    if can_access_prefecture(user, request.prefecture):
        return True
    return can_access_partner_copy(user, request)


def alert_recipients(prefecture: Prefecture) -> list[str]:
    """Who gets a court-order alert by email: the prefecture's contact address and its staff."""
    from django.contrib.auth import get_user_model

    emails = [prefecture.contact_email] if prefecture.contact_email else []
    emails += list(
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
    )
    return list(dict.fromkeys(emails))


def staff_required(view):
    """Logged in and staff; anonymous visitors go to the login page, others get 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not getattr(request.user, "is_authenticated", False):
            try:
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            except NoReverseMatch:
                raise PermissionDenied from None
        if not is_staff_user(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
