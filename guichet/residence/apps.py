from django.apps import AppConfig


class ResidenceConfig(AppConfig):
    name = "guichet.residence"
    label = "residence"
    verbose_name = "Residence and competent prefecture"
