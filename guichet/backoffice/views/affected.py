"""The people a catalogue change leaves behind (a closure, shorter hours): their appointments and offers on
slots the catalogue no longer opens, each with a link to the request, and the manager's actions: move one
(or all) to the earliest slot that suits it, or back to the queue with its due date when none does.

Thin: the list and the actions are guichet.backoffice.services (affected_appointments, settle_affected,
settle_all_affected), the same as the staff API's.
"""

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from guichet.accounts.models import Role
from guichet.errors import DomainError
from guichet.forms import apply_domain_error

from .. import services
from ..decorators import prefecture_role
from ..forms import SettleAffectedForm


def _target(value: str) -> tuple[int | None, int | None]:
    """(appointment id, offer id) from a button's value "appointment-12" or "offer-7"."""
    kind, _sep, number = value.partition("-")
    if not number.isdigit():
        return None, None
    if kind == "appointment":
        return int(number), None
    if kind == "offer":
        return None, int(number)
    return None, None


@prefecture_role(Role.MANAGER)
@require_http_methods(["GET", "POST"])
def affected_page(request, prefecture):
    form = SettleAffectedForm(request.POST or None)
    settlement = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            try:
                if "settle_all" in request.POST:
                    settlement = services.settle_all_affected(request.user, prefecture, reason=reason)
                else:
                    appointment_id, offer_id = _target(request.POST.get("settle", ""))
                    settlement = services.settle_affected(
                        request.user,
                        prefecture,
                        reason=reason,
                        appointment_id=appointment_id,
                        offer_id=offer_id,
                    )
            except DomainError as error:
                apply_domain_error(form, error)
        if form.errors:
            status = 400
        elif settlement is not None:
            form = SettleAffectedForm(initial={"reason": reason})
    rows = services.affected_appointments(request.user, prefecture)
    return render(
        request,
        "backoffice/affected.html",
        {"prefecture": prefecture, "rows": rows, "form": form, "settlement": settlement},
        status=status,
    )
