from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "guichet.notifications"
    label = "notifications"
