from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "guichet.public"
    label = "public"
