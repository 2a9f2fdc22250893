"""Pages that explain: home, procedures and their sites, the statements every public service owes."""

import csv

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from guichet.catalog import cached
from guichet.catalog.models import Prefecture, Procedure
from guichet.catalog.services import published_checklist
from guichet.public import charts, estimates, series, statistics
from guichet.public.kept_pages import kept
from guichet.waitlist.models import Channel

# RGAA: without an audit, a service must say it is not compliant. Change this, and the statement's text, once
# an audit has been made (see templates/public/accessibility.html).
ACCESSIBILITY_AUDIT = None

HOUR = 3600
# The waits a procedure page shows are themselves a few minutes old (estimates.FORECAST_SECONDS).
WAITS_KEPT_SECONDS = 60


def _prefectures():
    return cached.prefectures()


@require_safe
@kept(HOUR)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "public/home.html")


@require_safe
@kept(HOUR, catalogue=True)
def procedures(request: HttpRequest) -> HttpResponse:
    by_prefecture = []
    active = (
        Procedure.objects.filter(is_active=True)
        .select_related("prefecture")
        .order_by("prefecture__code", "name")
    )
    for procedure in active:
        if not by_prefecture or by_prefecture[-1][0] != procedure.prefecture:
            by_prefecture.append((procedure.prefecture, []))
        by_prefecture[-1][1].append(procedure)
    return render(request, "public/procedures.html", {"by_prefecture": by_prefecture})


def get_procedure(prefecture: str, code: str) -> Procedure:
    procedure = cached.public_procedure(prefecture.upper(), code)
    if procedure is None:
        raise Http404("no such procedure")
    return procedure


@require_safe
@kept(WAITS_KEPT_SECONDS, catalogue=True)
def procedure(request: HttpRequest, prefecture: str, code: str) -> HttpResponse:
    found = get_procedure(prefecture, code)
    sites = estimates.sites_serving(found)
    waits = estimates.cached_expected_waits(found, sites)
    return render(
        request,
        "public/procedure.html",
        {
            "procedure": found,
            "checklist": published_checklist(found),
            "waits": waits,
            "recent_days": estimates.RECENT_DAYS,
            "capacity_weeks": estimates.CAPACITY_WEEKS,
            "min_recent": estimates.MIN_RECENT_APPOINTMENTS,
        },
    )


@require_safe
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(
        request, "public/accessibility.html", {"prefectures": _prefectures(), "audit": ACCESSIBILITY_AUDIT}
    )


@require_safe
def legal(request: HttpRequest) -> HttpResponse:
    return render(request, "public/legal.html", {"prefectures": _prefectures()})


@require_safe
def privacy(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "public/privacy.html",
        {
            "prefectures": _prefectures(),
            "after_end_days": settings.RETENTION_AFTER_END_DAYS,
            "after_case_days": settings.RETENTION_AFTER_COURT_CASE_DAYS,
        },
    )


@require_safe
def free_service(request: HttpRequest) -> HttpResponse:
    return render(request, "public/free_service.html")


def _chosen_procedure(prefecture: Prefecture | None, code: str | None) -> Procedure | None:
    """The procedure a figures address names (None for all of them); 404 for one the prefecture has not."""
    if code is None:
        return None
    found = None
    if prefecture is not None:
        found = Procedure.objects.filter(prefecture=prefecture, code=code, is_active=True).first()
    if found is None:
        raise Http404("no such procedure")
    return found


def _chosen_prefecture(prefectures: list[Prefecture], code: str) -> Prefecture:
    chosen = next((p for p in prefectures if p.code == code.upper()), None)
    if chosen is None:
        raise Http404("no such prefecture")
    return chosen


@require_safe
def figures(
    request: HttpRequest, prefecture: str | None = None, procedure: str | None = None
) -> HttpResponse:
    """Public figures of one prefecture (or the first, the only one in most deployments), with a choice;
    the weekly series of all its procedures or of one."""
    prefectures = _prefectures()
    if prefecture is None:
        chosen = prefectures[0] if prefectures else None
    else:
        chosen = _chosen_prefecture(prefectures, prefecture)
    one = _chosen_procedure(chosen, procedure)
    weekly = series.cached_series(chosen, one) if chosen else None
    return render(
        request,
        "public/figures.html",
        {
            "prefectures": prefectures,
            "chosen": chosen,
            "chosen_procedure": one,
            "weekly_procedures": list(chosen.procedures.filter(is_active=True).order_by("name"))
            if chosen
            else [],
            "figures": statistics.cached_prefecture_figures(chosen) if chosen else None,
            "cache_minutes": statistics.CACHE_SECONDS // 60,
            "weekly": weekly,
            "charts": _weekly_charts(weekly) if weekly else [],
            "channels": Channel.choices,
        },
    )


def _weekly_charts(weekly: series.WeeklySeries) -> list:
    """The four charts of the figures page, from the weekly series its table shows (ISO dates under the
    axis: read the same in every language and direction)."""
    described = _("The same numbers are in the table “Figures per week” below.")
    drawn = [
        ("received", _("Requests received per week"), lambda week: week.received),
        ("served", _("People served per week"), lambda week: week.served),
        ("waiting", _("People waiting at the end of each week"), lambda week: week.waiting),
        (
            "median",
            _("Median days from request to appointment, per week"),
            lambda week: week.median_wait_days,
        ),
    ]
    return [
        (
            title,
            charts.bar_chart(
                [charts.Bar(label=week.week.isoformat(), value=value(week)) for week in weekly.weeks],
                title=title,
                description=described,
                chart_id=f"chart-{name}",
            ),
        )
        for name, title, value in drawn
    ]


CSV_COLUMNS = [
    "week",
    "received",
    *[f"received_{channel}" for channel in series.CHANNELS],
    "served",
    "waiting",
    "median_wait_days",
    "p90_wait_days",
    "served_late_share",
    "no_show_rate",
    "court_orders_received",
    "court_orders_met",
    "court_orders_missed",
]


@require_safe
def figures_csv(request: HttpRequest, prefecture: str, procedure: str | None = None) -> HttpResponse:
    """The weekly figures as CSV (open data): one row per week, columns named as in the JSON; of every
    procedure of the prefecture, or of one."""
    chosen = _chosen_prefecture(_prefectures(), prefecture)
    one = _chosen_procedure(chosen, procedure)
    name = f"{chosen.code}-{one.code}" if one else chosen.code
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="guichet-{name}-weekly.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for week in series.cached_series(chosen, one).weeks:
        writer.writerow(
            [
                week.week.isoformat(),
                week.received,
                *[week.received_by_channel[channel] for channel in series.CHANNELS],
                week.served,
                week.waiting,
                *(
                    "" if value is None else value
                    for value in (
                        week.median_wait_days,
                        week.p90_wait_days,
                        week.served_late_share,
                        week.no_show_rate,
                    )
                ),
                week.court_orders_received,
                week.court_orders_met,
                week.court_orders_missed,
            ]
        )
    return response
