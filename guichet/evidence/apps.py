from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "guichet.evidence"
    label = "evidence"
