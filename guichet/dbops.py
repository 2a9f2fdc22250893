"""Migration operations that only PostgreSQL understands (exclusion constraints, triggers).

SQLite, the embedded default, keeps every other guarantee (unique and check constraints); these add
what it cannot express. Tests of them are marked `postgres`.
"""

from django.db import migrations


class PostgresOnlySQL(migrations.RunSQL):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
