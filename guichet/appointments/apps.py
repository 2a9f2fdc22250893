from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "guichet.appointments"
    label = "appointments"
