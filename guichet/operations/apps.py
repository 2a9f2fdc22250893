from django.apps import AppConfig

from guichet import lookups


class OperationsConfig(AppConfig):
    """Running the system: the web server, the background worker and the clock that schedules jobs."""

    name = "guichet.operations"
    label = "operations"

    def ready(self) -> None:
        # Project-wide: `field__any=ids` (guichet/lookups.py), used wherever thousands of ids are sent.
        lookups.register()
