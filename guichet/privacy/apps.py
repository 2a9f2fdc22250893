from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """The person's data over time: retention per phase, erasure, the person's export and requests."""

    name = "guichet.privacy"
    label = "privacy"
    verbose_name = "Privacy"
