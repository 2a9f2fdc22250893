from django.apps import AppConfig


class ReceptionConfig(AppConfig):
    name = "guichet.reception"
    verbose_name = "Reception"
