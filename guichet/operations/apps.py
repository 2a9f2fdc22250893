from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Running the system: the web server, the background worker and the clock that schedules jobs."""

    name = "guichet.operations"
    label = "operations"
