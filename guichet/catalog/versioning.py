"""The catalogue's version stamp, changed by the database itself on every write to a catalogue table.

A trigger on each table of `VERSIONED_TABLES` gives `catalog_catalogueversion` a new random stamp inside
the writing statement, so the new stamp becomes visible exactly when the write does (at its commit) and
goes away with it if it is rolled back. Readers compare it with the stamp of the copy they keep
(guichet/catalog/cached.py).

The triggers are (re)installed after every `migrate` (`install_triggers`, connected in apps.py), not by one
migration: SQLite drops a table's triggers when Django's schema editor rebuilds the table (most of its
ALTERs do), and a later migration of a catalogue table would silently end the invalidation.
`tests/catalog/test_cached.py` checks that every table has its trigger on both databases.

On PostgreSQL the trigger runs once per statement (a bulk update changes the stamp once); on SQLite, which
has only row triggers, once per row. Writers of the catalogue queue on the one row until they commit:
catalogue edits are rare (a manager's change, the demo), and reads never wait for it.
"""

from django.db import connections

VERSION_TABLE = "catalog_catalogueversion"
VERSION_ID = 1

# Every table whose rows the kept reads (cached.py) depend on.
VERSIONED_TABLES = (
    "catalog_prefecture",
    "catalog_site",
    "catalog_counter",
    "catalog_procedure",
    "catalog_checklistversion",
    "catalog_openingrule",
    "catalog_openingrule_procedures",
    "catalog_closure",
)

TRIGGER = "catalog_version"

_POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION catalog_new_version() RETURNS trigger AS $$
BEGIN
    INSERT INTO {VERSION_TABLE} (id, stamp) VALUES ({VERSION_ID}, replace(gen_random_uuid()::text, '-', ''))
        ON CONFLICT (id) DO UPDATE SET stamp = EXCLUDED.stamp;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""

# SQLite: one trigger per table and kind of write. The upsert keeps the stamp row even after a flush.
_SQLITE_TRIGGER = """
CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN
    INSERT INTO {version} (id, stamp) VALUES ({id}, lower(hex(randomblob(16))))
        ON CONFLICT (id) DO UPDATE SET stamp = excluded.stamp;
END
"""
SQLITE_EVENTS = ("INSERT", "UPDATE", "DELETE")


def install_triggers(using: str = "default") -> None:
    """Create (or create again) the version triggers on every catalogue table."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_POSTGRES_FUNCTION)
            for table in VERSIONED_TABLES:
                cursor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {table}")
                cursor.execute(
                    f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION catalog_new_version()"
                )
        elif connection.vendor == "sqlite":
            for table in VERSIONED_TABLES:
                for event in SQLITE_EVENTS:
                    name = f"{TRIGGER}_{table}_{event.lower()}"
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
                    cursor.execute(
                        _SQLITE_TRIGGER.format(
                            name=name, event=event, table=table, version=VERSION_TABLE, id=VERSION_ID
                        )
                    )


def installed_triggers(using: str = "default") -> set[str]:
    """The catalogue tables that have their version trigger (all of them, unless something dropped one)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT event_object_table FROM information_schema.triggers WHERE trigger_name = %s",
                [TRIGGER],
            )
            return {table for (table,) in cursor.fetchall()}
        cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        names = {(table, name) for table, name in cursor.fetchall()}
    return {
        table
        for table in VERSIONED_TABLES
        if all((table, f"{TRIGGER}_{table}_{event.lower()}") in names for event in SQLITE_EVENTS)
    }


def current_stamp(using: str = "default") -> str | None:
    """The stamp as this connection sees it now (None if the row is missing: after a flush, until a write)."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT stamp FROM {VERSION_TABLE} WHERE id = %s", [VERSION_ID])
        row = cursor.fetchone()
    return row[0] if row else None
