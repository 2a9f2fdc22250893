from django.apps import AppConfig


class WaitlistConfig(AppConfig):
    name = "guichet.waitlist"
    label = "waitlist"
