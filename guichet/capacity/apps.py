from django.apps import AppConfig


class CapacityConfig(AppConfig):
    name = "guichet.capacity"
    label = "capacity"
