from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    default = True
    name = "guichet.accounts"
    label = "accounts"
    verbose_name = "Staff accounts"


class PlatformAdminConfig(admin_apps.AdminConfig):
    """The Django admin with its site replaced by the platform administrators' (admin_site.py)."""

    default = False
    default_site = "guichet.accounts.admin_site.PlatformAdminSite"
