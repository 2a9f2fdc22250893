"""The prefecture's published figures for a request's procedure, as the court file quotes them.

The numbers are those of the public figures page, its CSV and the API (guichet.public.series.cached_series,
the same cached series), so a judge or a lawyer can read them again at the stable addresses the file
prints. This module sits with the pages (it reads the public series and builds addresses); the court file
itself (court_file.py, domain) only lays out what it is given.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from guichet.public import series
from guichet.waitlist.models import AppointmentRequest

from .court_file import QUOTED_WEEKS, QuotedFigures, QuotedWeek


def quoted_figures(request: AppointmentRequest) -> QuotedFigures:
    """The last QUOTED_WEEKS complete weeks of the procedure's published series (the current week, still
    moving, is left out), with the French page, the CSV and the API addresses of the same rows."""
    prefecture, procedure = request.prefecture, request.procedure
    published = series.cached_series(prefecture, procedure)
    today = published.as_of.astimezone(prefecture.tzinfo).date()
    this_week = today - datetime.timedelta(days=today.weekday())
    complete = [week for week in published.weeks if week.week < this_week][-QUOTED_WEEKS:]
    args = [prefecture.code, procedure.code]
    with translation.override("fr"):
        page = reverse("public:figures_of_procedure", args=args)
        csv = reverse("public:figures_csv_of_procedure", args=args)
    api = reverse("api-v1:statistics_weekly")
    query = {"prefecture": prefecture.code, "procedure": procedure.code}
    return QuotedFigures(
        page_url=f"{settings.SITE_URL}{page}",
        csv_url=f"{settings.SITE_URL}{csv}",
        api_url=f"{settings.SITE_URL}{api}?{urlencode(query)}",
        as_of=published.as_of,
        weeks=tuple(
            QuotedWeek(
                week=week.week,
                received=week.received,
                served=week.served,
                waiting=week.waiting,
                median_wait_days=week.median_wait_days,
                p90_wait_days=week.p90_wait_days,
                served_late_share=week.served_late_share,
            )
            for week in complete
        ),
    )
