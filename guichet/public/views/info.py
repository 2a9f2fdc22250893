"""Pages that explain: home, procedures and their sites, the statements every public service owes."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from guichet.catalog.models import Prefecture, Procedure
from guichet.catalog.services import published_checklist
from guichet.public import estimates, statistics

# RGAA: without an audit, a service must say it is not compliant. Change this, and the statement's text, once
# an audit has been made (see templates/public/accessibility.html).
ACCESSIBILITY_AUDIT = None


def _prefectures():
    return list(Prefecture.objects.order_by("code"))


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "public/home.html", {"prefectures": _prefectures()})


@require_safe
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
    procedure = (
        Procedure.objects.select_related("prefecture")
        .filter(prefecture__code=prefecture.upper(), code=code, is_active=True)
        .first()
    )
    if procedure is None:
        raise Http404("no such procedure")
    return procedure


@require_safe
def procedure(request: HttpRequest, prefecture: str, code: str) -> HttpResponse:
    found = get_procedure(prefecture, code)
    sites = estimates.sites_serving(found)
    waits = [estimates.cached_expected_wait(found, site) for site in sites]
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


@require_safe
def figures(request: HttpRequest, prefecture: str | None = None) -> HttpResponse:
    """Public figures of one prefecture (or the first, the only one in most deployments), with a choice."""
    prefectures = _prefectures()
    if prefecture is None:
        chosen = prefectures[0] if prefectures else None
    else:
        chosen = next((p for p in prefectures if p.code == prefecture.upper()), None)
        if chosen is None:
            raise Http404("no such prefecture")
    return render(
        request,
        "public/figures.html",
        {
            "prefectures": prefectures,
            "chosen": chosen,
            "figures": statistics.cached_prefecture_figures(chosen) if chosen else None,
            "cache_minutes": statistics.CACHE_SECONDS // 60,
        },
    )
