from django.apps import AppConfig


class SpacesConfig(AppConfig):
    name = "guichet.spaces"
    label = "spaces"
    verbose_name = "Applicant spaces"
