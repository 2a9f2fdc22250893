"""The Django admin, for platform administrators only, behind the back office's login.

The admin has no login of its own: its login page sends to the back office's (password, throttle, second
factor), and a session reaches the admin only once that second factor is checked and only for a platform
administrator. Managers edit their prefecture's catalogue in the back office (/staff/<code>/catalogue/),
scoped to it; the admin sees every prefecture, which is why it is the platform's alone.
"""

from django.contrib import admin
from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import permissions

_CACHED = "_guichet_platform_admin"


def verified_platform_admin(request) -> bool:
    """A platform administrator whose session passed the second factor."""
    return bool(request.session.get(permissions.SESSION_2FA_KEY)) and _platform_admin(request.user)


def _platform_admin(user) -> bool:
    # The admin asks for permissions dozens of times per page: once per request object is enough.
    if not hasattr(user, _CACHED):
        setattr(user, _CACHED, permissions.is_platform_admin(user))
    return getattr(user, _CACHED)


class PlatformAdminSite(admin.AdminSite):
    site_header = _("Guichet: platform administration")
    site_title = _("Guichet platform administration")

    def has_permission(self, request) -> bool:
        return verified_platform_admin(request)

    def login(self, request, extra_context=None):
        return redirect_to_login(request.get_full_path(), reverse("backoffice:login"))


class PlatformAdminPermissions(BaseBackend):
    """Platform administrators hold every model permission the admin asks about (the admin site itself
    demands the second factor); authenticates nobody."""

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return _platform_admin(user_obj)

    def has_module_perms(self, user_obj, app_label) -> bool:
        return _platform_admin(user_obj)
