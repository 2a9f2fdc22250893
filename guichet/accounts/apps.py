from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "guichet.accounts"
    label = "accounts"
    verbose_name = "Staff accounts"
