from django.apps import AppConfig


class AllocationConfig(AppConfig):
    name = "guichet.allocation"
    label = "allocation"
