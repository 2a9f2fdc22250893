"""Guards of the back office pages: a verified session (password and second factor), then a role.

A visitor who is not logged in is sent to the login page; a logged-in user without the right gets 403 (a
page about a request they may not see answers 404, so that references cannot be probed).
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from guichet.accounts import permissions
from guichet.accounts.models import Role
from guichet.catalog.models import Prefecture


def is_verified(request) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active and request.session.get(permissions.SESSION_2FA_KEY))


def verified_required(view):
    """Any verified account (staff, partner or platform administrator)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_verified(request):
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


def staff_required(view):
    """A verified member of at least one prefecture (any role)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_verified(request):
            return redirect_to_login(request.get_full_path())
        if not permissions.is_staff_member(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def prefecture_role(role: str = Role.AGENT):
    """The view gets `prefecture` (from the <code> in its URL) once the user's role there is checked."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, code, *args, **kwargs):
            if not is_verified(request):
                return redirect_to_login(request.get_full_path())
            prefecture = get_object_or_404(Prefecture, code=code)
            permissions.require_role(request.user, prefecture, role)
            return view(request, prefecture, *args, **kwargs)

        return wrapped

    return decorator


def partner_required(view):
    """A verified member of an approved partner organisation; the view gets `member`."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_verified(request):
            return redirect_to_login(request.get_full_path())
        member = permissions.partner_member(request.user)
        if member is None:
            raise PermissionDenied
        return view(request, member, *args, **kwargs)

    return wrapped


def platform_admin_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_verified(request):
            return redirect_to_login(request.get_full_path())
        if not permissions.is_platform_admin(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped
