from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate

from guichet.catalog import versioning


def _install_version_triggers(sender, using="default", **kwargs) -> None:
    tables = set(connections[using].introspection.table_names())
    if {versioning.VERSION_TABLE, *versioning.VERSIONED_TABLES} <= tables:
        versioning.install_triggers(using)


class CatalogConfig(AppConfig):
    name = "guichet.catalog"
    label = "catalog"

    def ready(self) -> None:
        # After every migrate: SQLite loses a table's triggers when a migration rebuilds it
        # (guichet/catalog/versioning.py).
        post_migrate.connect(_install_version_triggers, sender=self)
