"""Percentiles of a duration per group, computed by the database.

PostgreSQL has the ordered-set aggregate `percentile_cont(share) WITHIN GROUP (ORDER BY value)`: one pass,
no row leaves the server. SQLite has no ordered-set aggregate, so `ranked_percentiles` gives the same
numbers with window functions (each row's rank and its group's size) and reads only the one or two rows
around each percentile's position: at most four rows per group, whatever the number of rows.

Both are the continuous percentile (linear interpolation between the two nearest ranks, as PostgreSQL and
`statistics.quantiles(method="inclusive")` define it): for n sorted values v[0..n-1] and a share p, the
position is h = (n - 1) * p and the percentile v[floor(h)] + (h - floor(h)) * (v[ceil(h)] - v[floor(h)]).
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict

from django.db.models import Aggregate, Count, DurationField, F, Q, Window
from django.db.models.functions import Ceil, Floor, RowNumber


class PercentileCont(Aggregate):
    """percentile_cont(share) WITHIN GROUP (ORDER BY expression), PostgreSQL only (a duration in, a
    duration out: PostgreSQL interpolates intervals)."""

    function = "percentile_cont"
    name = "PercentileCont"
    template = "%(function)s(%(share)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()

    def __init__(self, expression, share: float, **extra):
        if not 0 <= share <= 1:
            raise ValueError("a percentile's share is between 0 and 1")
        # A float we chose, written into the SQL as a literal (an ordered-set aggregate's direct argument).
        super().__init__(expression, share=repr(float(share)), **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        raise NotImplementedError("SQLite has no ordered-set aggregate: use ranked_percentiles")


def position(size: int, share: float) -> tuple[int, int, float]:
    """The 1-based ranks below and above a percentile's position, and the weight of the upper one."""
    exact = (size - 1) * share
    return math.floor(exact) + 1, math.ceil(exact) + 1, exact - math.floor(exact)


def interpolate(sorted_values: list[float], share: float) -> float | None:
    """The continuous percentile of sorted values (None for none): the definition both paths follow."""
    if not sorted_values:
        return None
    low, high, weight = position(len(sorted_values), share)
    return sorted_values[low - 1] + weight * (sorted_values[high - 1] - sorted_values[low - 1])


def ranked_percentiles(
    queryset, group: str, value: str, shares: tuple[float, ...]
) -> dict[object, dict[float, datetime.timedelta]]:
    """{group value: {share: percentile}} of the duration annotation `value` per annotation `group`, by
    window functions (any backend): the database ranks the rows, only the neighbours of each position
    are read."""
    ranked = queryset.annotate(
        rank=Window(RowNumber(), partition_by=F(group), order_by=[F(value).asc(), F("pk").asc()]),
        size=Window(Count("pk"), partition_by=F(group)),
    )
    near = Q()
    for share in shares:
        near |= Q(rank=Floor((F("size") - 1) * share) + 1) | Q(rank=Ceil((F("size") - 1) * share) + 1)
    by_group: dict[object, dict[int, datetime.timedelta]] = defaultdict(dict)
    sizes: dict[object, int] = {}
    for key, rank, size, duration in ranked.filter(near).values_list(group, "rank", "size", value):
        by_group[key][rank] = duration
        sizes[key] = size
    result: dict[object, dict[float, datetime.timedelta]] = {}
    for key, ranks in by_group.items():
        result[key] = {}
        for share in shares:
            low, high, weight = position(sizes[key], share)
            result[key][share] = ranks[low] + (ranks[high] - ranks[low]) * weight
    return result
