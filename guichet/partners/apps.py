from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "guichet.partners"
    label = "partners"
    verbose_name = "Partner organisations"
