"""The court file (dossier de référé « mesures utiles »), in French, for a request without an appointment.

Available once the request has waited 3 weeks without an appointment, or is past its due date, or the
permit expires within 30 days without an appointment (CE 10 June 2020 n° 435594 asks for attempts "not all
in the same week": three weekly statements answer it; CE 9 June 2022 n° 453391 presumes urgency for a
renewal). The file gathers a summary, the chronology of signed proofs with their QR codes, the legal basis,
the competent tribunal (R.312-8), the prefecture's published figures for the procedure over the last weeks
(with their address) and a pre-filled petition. It is not legal advice, and says so.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from guichet.appointments.models import ACTIVE_APPOINTMENT_STATUSES, Appointment
from guichet.waitlist.countries import ISO_3166_1_ALPHA_2
from guichet.waitlist.models import AppointmentRequest, RequestStatus

from . import pdf, presentation, services, tribunals
from .models import ProofEvent

WAIT_BEFORE_FILE = datetime.timedelta(weeks=3)
# The court file is in French whatever the reader's language (see presentation.FRENCH_EVENT_LABELS).
FRENCH_DUE_REASONS = {
    "target_wait": "délai cible de la démarche",
    "vulnerability": "délai réduit pour vulnérabilité",
    "permit_expiry": "expiration du titre de séjour en cours",
    "court_order": "délai fixé par une décision de justice",
}
FRENCH_CHANNELS = {
    "web": "par le site internet",
    "counter": "au guichet",
    "phone": "par téléphone",
    "post": "par courrier",
    "partner": "par une structure partenaire",
}
FRENCH_STATUSES = {
    "waiting": "en attente d'une proposition",
    "offered": "proposition en cours",
    "scheduled": "rendez-vous fixé",
    "served": "reçu au guichet",
    "paused": "suspendue",
    "withdrawn": "retirée",
    "closed": "close par la préfecture",
}
EXPIRY_WINDOW_DAYS = 30
# How many of the last complete weeks of the prefecture's published figures the file quotes.
QUOTED_WEEKS = 8


@dataclass(frozen=True)
class QuotedWeek:
    """One week of the published figures, as the court file quotes it (the values of the figures page)."""

    week: datetime.date  # the Monday
    received: int
    served: int
    waiting: int
    median_wait_days: float | None
    p90_wait_days: float | None
    served_late_share: float | None


@dataclass(frozen=True)
class QuotedFigures:
    """The prefecture's published weekly figures for the request's procedure (guichet.public.series, read by
    guichet.evidence.figures), with the addresses where anyone can read the same numbers."""

    page_url: str
    csv_url: str
    api_url: str
    as_of: datetime.datetime
    weeks: tuple[QuotedWeek, ...]  # the last QUOTED_WEEKS complete weeks, oldest first


def _has_appointment(request: AppointmentRequest) -> bool:
    return Appointment.objects.filter(request=request, status__in=ACTIVE_APPOINTMENT_STATUSES).exists()


def court_file_available(request: AppointmentRequest, today: datetime.date | None = None) -> tuple[bool, str]:
    """Whether the court file may be produced for this request today, and why (or why not yet)."""
    tz = request.prefecture.tzinfo
    today = today or timezone.now().astimezone(tz).date()
    if request.status not in services.WAITING_STATUSES:
        if request.status == RequestStatus.SCHEDULED:
            return False, _("The request has an appointment: a court file is no longer needed.")
        return False, _("The request is no longer waiting for an appointment.")
    if _has_appointment(request):
        return False, _("The request has an appointment: a court file is no longer needed.")
    received_on = request.received_at.astimezone(tz).date()
    waited = today - received_on
    if waited >= WAIT_BEFORE_FILE:
        return True, _("The request has waited %(days)s days without an appointment.") % {"days": waited.days}
    if today > request.due_date:
        return True, _("The request is past its due date (%(date)s) without an appointment.") % {
            "date": presentation.date_text(request.due_date)
        }
    if request.permit_expires_on and (request.permit_expires_on - today).days <= EXPIRY_WINDOW_DAYS:
        return True, _("The current permit expires on %(date)s and there is no appointment.") % {
            "date": presentation.date_text(request.permit_expires_on)
        }
    available_on = min(
        received_on + WAIT_BEFORE_FILE,
        request.due_date + datetime.timedelta(days=1),
        *(
            [request.permit_expires_on - datetime.timedelta(days=EXPIRY_WINDOW_DAYS)]
            if request.permit_expires_on
            else []
        ),
    )
    return False, _(
        "A court file is available after 3 weeks of waiting without an appointment, once the due date has "
        "passed, or when the permit expires within 30 days. For this request: from %(date)s."
    ) % {"date": presentation.date_text(available_on)}


def proof_rows(request: AppointmentRequest, language: str) -> list[dict]:
    """Each proof with its content in plain words and its QR code, oldest first."""
    rows = []
    keys = services.published_keys()
    for proof in services.proofs_of(request):
        try:
            payload = services.signing.parse_and_verify(proof.token, keys).payload
        except services.signing.TokenError:
            continue  # verify_audit reports it; a file for a court shows only what verifies
        rows.append(
            {
                "proof": proof,
                "content": presentation.describe(payload, french=True),
                "qr": pdf.proof_qr(proof.token, language),
            }
        )
    return rows


def attempts_summary(rows: list[dict]) -> dict:
    """How many distinct weeks the proofs of waiting cover (CE 435594: attempts "not all in one week")."""
    waiting_events = {ProofEvent.RECEIVED, ProofEvent.STILL_WAITING, ProofEvent.OFFER_LAPSED}
    weeks = {row["proof"].issued_at.isocalendar()[:2] for row in rows if row["proof"].event in waiting_events}
    statements = sum(1 for row in rows if row["proof"].event == ProofEvent.STILL_WAITING)
    return {"weeks": len(weeks), "statements": statements}


def _prose_moment(local: datetime.datetime) -> str:
    """« 5 janvier 2026 à 10:00 », as a sentence says it (French is active)."""
    return f"{date_format(local.replace(tzinfo=None), 'j F Y')} à {local:%H:%M}"


def nationality_text(code: str) -> str:
    name = ISO_3166_1_ALPHA_2.get((code or "").upper())
    return f"{name} ({code})" if name else (code or "non indiquée")


def _number(value: float | None) -> str:
    """« 12,5 » (French decimal comma), « — » without a value."""
    return "—" if value is None else f"{value:g}".replace(".", ",")


def _share(value: float | None) -> str:
    return "—" if value is None else f"{round(100 * value):d} %"


def figures_context(figures: QuotedFigures | None, target_wait_days: int, tz) -> dict | None:
    """What the file says of the published figures: each week as published, the sums over the weeks, and
    the weeks whose median wait exceeded the procedure's target."""
    if figures is None or not figures.weeks:
        return None
    weeks = figures.weeks
    served_weeks = [week for week in weeks if week.served]
    return {
        "page_url": figures.page_url,
        "csv_url": figures.csv_url,
        "api_url": figures.api_url,
        "as_of": presentation.local_text(figures.as_of, tz),
        "first": presentation.date_text(weeks[0].week),
        "last": presentation.date_text(weeks[-1].week + datetime.timedelta(days=6)),
        "count": len(weeks),
        "rows": [
            {
                "week": date_format(week.week, "SHORT_DATE_FORMAT"),
                "received": week.received,
                "served": week.served,
                "waiting": week.waiting,
                "median": _number(week.median_wait_days),
                "p90": _number(week.p90_wait_days),
                "late": _share(week.served_late_share),
            }
            for week in weeks
        ],
        "received": sum(week.received for week in weeks),
        "served": sum(week.served for week in weeks),
        "waiting_last": weeks[-1].waiting,
        "target_wait_days": target_wait_days,
        "served_weeks": len(served_weeks),
        "over_target_weeks": sum(
            1 for week in served_weeks if (week.median_wait_days or 0) > target_wait_days
        ),
        "late_weeks": sum(1 for week in served_weeks if (week.served_late_share or 0) > 0),
    }


def court_file_context(
    request: AppointmentRequest,
    *,
    now: datetime.datetime | None = None,
    figures: QuotedFigures | None = None,
) -> dict:
    now = now or timezone.now()
    tz = request.prefecture.tzinfo
    today = now.astimezone(tz).date()
    competence = tribunals.competent_tribunal(request)
    rows = proof_rows(request, "fr")
    available, reason = court_file_available(request, today)
    received_on = request.received_at.astimezone(tz).date()
    orders = list(request.court_orders.order_by("ordered_on", "id"))
    attempts = attempts_summary(rows)
    return {
        "req": request,
        "today": today,
        "generated": presentation.local_text(now, tz),
        "received": presentation.local_text(request.received_at, tz),
        "received_prose": _prose_moment(request.received_at.astimezone(tz)),
        "received_on": received_on,
        "days_waited": (today - received_on).days,
        "due_date": presentation.date_text(request.due_date),
        "due_reason": FRENCH_DUE_REASONS.get(request.due_reason, request.due_reason),
        "permit_expires_on": presentation.date_text(request.permit_expires_on),
        "is_renewal": request.procedure.is_renewal,
        "past_due": today > request.due_date,
        "rows": rows,
        "attempts": attempts,
        "attestations_plural": "s" if attempts["statements"] > 1 else "",
        "nationality": nationality_text(request.nationality),
        "site_url": settings.SITE_URL,
        "competence": competence,
        "available": available,
        "availability_reason": reason,
        "court_orders": orders,
        "channel": FRENCH_CHANNELS.get(request.channel, request.channel),
        "status": FRENCH_STATUSES.get(request.status, request.status),
        "figures": figures_context(figures, request.procedure.target_wait_days, tz),
    }


def render_court_file(
    request: AppointmentRequest,
    *,
    now: datetime.datetime | None = None,
    figures: QuotedFigures | None = None,
) -> bytes:
    """The court file as one PDF, always in French (the language of the court); with `figures`, it quotes
    the prefecture's published figures for the procedure."""
    with translation.override("fr"):
        return pdf.render_pdf(
            "evidence/pdf/court_file.html", court_file_context(request, now=now, figures=figures)
        )
