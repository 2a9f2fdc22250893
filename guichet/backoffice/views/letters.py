"""The postal channel's print run, per prefecture: letters waiting, the PDF to print, reprints by date."""

import datetime

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guichet.accounts import permissions
from guichet.accounts import services as accounts
from guichet.accounts.models import AccessChannel, AccessKind, Role

from .. import letters
from ..decorators import prefecture_role
from ..forms import LettersForm


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _record_read(request, prefecture, what: str) -> None:
    """Letters carry names and addresses: a print run is a read of applicants' data (R27)."""
    accounts.record_access(
        request.user,
        AccessKind.PRINTED_LETTERS,
        channel=AccessChannel.PAGE,
        prefecture=prefecture,
        detail=what,
    )


@prefecture_role(Role.AGENT)
def letters_page(request, prefecture):
    form = LettersForm(request.GET or None, initial={"date": timezone.localdate()})
    day = form.cleaned_data["date"] if form.is_valid() else timezone.localdate()
    return render(
        request,
        "backoffice/letters.html",
        {
            "prefecture": prefecture,
            "form": form,
            "pending": letters.pending_letters(prefecture),
            "printed": letters.printed_letters(prefecture, day),
            "day": day,
        },
    )


@require_POST
@prefecture_role(Role.AGENT)
def letters_print(request, prefecture):
    """Today's run: the PDF of every letter waiting, which are then marked printed (and audited)."""
    run = letters.print_run(prefecture, actor=permissions.actor_for(request.user))
    if not run.count:
        messages.info(request, _("No letter is waiting to be printed."))
        return redirect("backoffice:letters", code=prefecture.code)
    _record_read(request, prefecture, f"letters printed on {run.day.isoformat()} ({run.count})")
    return _pdf_response(run.pdf, f"letters-{prefecture.code}-{run.day.isoformat()}.pdf")


@prefecture_role(Role.AGENT)
def letters_reprint(request, prefecture, day: str):
    try:
        date = datetime.date.fromisoformat(day)
    except ValueError:
        raise Http404 from None
    found = letters.printed_letters(prefecture, date)
    if not found:
        raise Http404
    _record_read(request, prefecture, f"letters of {date.isoformat()} printed again ({len(found)})")
    return _pdf_response(
        letters.render_batch(found), f"letters-{prefecture.code}-{date.isoformat()}-reprint.pdf"
    )
