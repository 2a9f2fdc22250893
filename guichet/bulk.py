"""Fast bulk inserts for large runs (allocation, its proofs, audit entries and messages): COPY on
PostgreSQL, bulk_create elsewhere.

Django's bulk_create on PostgreSQL sends each column as an array that psycopg renders value by value in
Python (client-side binding); for the tens of thousands of rows of a prefecture's run, COPY is several times
faster. Ids are reserved from the table's sequence first, so that callers know them (offers and
appointments are named in proofs and messages, proofs in audit entries). Reserved ids ascend in row order,
so rows written together keep their order in ids (the audit log's verification relies on it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection, models
from django.utils import timezone

BATCH = 2000
# Below this many rows one INSERT … RETURNING costs less than reserving ids and then copying (two
# statements): a filing writes one audit entry.
COPY_FROM_ROWS = 20


def uses_copy() -> bool:
    return connection.vendor == "postgresql"


def _default(field: models.Field, now):
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.has_default():
        return field.get_default()
    if field.null:
        return None
    if field.empty_strings_allowed and field.blank:
        return ""
    raise ValueError(f"{field.model.__name__}.{field.name} needs a value")


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` fresh primary keys of the model's table (PostgreSQL: from its sequence, in one query)."""
    if count == 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s) ORDER BY 1",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def insert(model: type[models.Model], rows: Sequence[dict], *, with_ids: bool = False) -> list[int]:
    """Insert rows (dicts by attname; missing fields take their default). Returns the new ids if asked.

    Must run inside a transaction (the rows belong to the change that writes them). JSON fields may be
    given already encoded, as `json.RawJSON`-like `Encoded` values, to spare encoding them twice.
    """
    if not rows:
        return []
    if not uses_copy() or len(rows) < COPY_FROM_ROWS:
        made = model.objects.bulk_create(
            [model(**{k: _decoded(v) for k, v in row.items()}) for row in rows], batch_size=BATCH
        )
        return [obj.pk for obj in made] if with_ids else []
    pk_name = model._meta.pk.attname
    ids: list[int] = reserve_ids(model, len(rows)) if with_ids else []
    now = timezone.now()
    given = set(rows[0]) | ({pk_name} if with_ids else set())
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.attname not in given)]
    defaults = {f.attname: _default(f, now) for f in fields if f.attname not in given}
    json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    names = [f.attname for f in fields]
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"

    def value(row: dict, name: str):
        found = row[name] if name in row else defaults[name]
        if name in json_fields:
            return found.text if isinstance(found, Encoded) else json.dumps(found)
        return found

    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        write = copy.write_row
        if with_ids:
            for row, pk in zip(rows, ids, strict=True):
                write([pk if name == pk_name else value(row, name) for name in names])
        else:
            for row in rows:
                write([value(row, name) for name in names])
    return ids


class Encoded:
    """A JSON field's value already encoded (the text COPY writes), with the value itself for bulk_create."""

    __slots__ = ("text", "value")

    def __init__(self, value, text: str) -> None:
        self.value = value
        self.text = text


def _decoded(value):
    return value.value if isinstance(value, Encoded) else value
