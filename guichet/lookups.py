"""`field__any=ids`: membership in a long list of ids, sent as one array parameter on PostgreSQL.

`pk__in=ids` writes one placeholder per id: for the thousands of ids of an allocation run, Django prepares
each value and psycopg splits and renders a query of thousands of parameters, which costs more than the
database's own work. `pk__any=ids` sends `= ANY(%s)` with the list as one array (the query text stays
short and the same, whatever the number of ids); elsewhere (SQLite) it is the usual `IN (...)`.

Registered on integer fields and foreign keys (ids only) by the operations app's ready().
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import EmptyResultSet
from django.db import models
from django.db.models import Lookup


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[int]:
        if isinstance(self.rhs, str | bytes) or not isinstance(self.rhs, Iterable):
            raise TypeError(f"__any takes a list of ids, not {type(self.rhs).__name__}")
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        ids = self.rhs
        if not ids:
            raise EmptyResultSet
        if connection.vendor == "postgresql":
            # bigint[] whatever the values: one query text, and the comparison with any id column is exact.
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, ids]
        return f"{lhs} IN ({', '.join(['%s'] * len(ids))})", [*lhs_params, *ids]


def register() -> None:
    for field in (models.IntegerField, models.ForeignKey):
        field.register_lookup(AnyOf)
