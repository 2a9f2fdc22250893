"""Messages telling a manager what a catalogue change did to the slots (the admin and the back office)."""

from django.contrib import messages
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from guichet.capacity.services import GenerationReport

# At most this many conflicts are listed in the message after a save; the audit entry has them all.
SHOWN_CONFLICTS = 10


def report_to_messages(request, report: GenerationReport, *, listed: bool = False) -> None:
    """The report as messages. With `listed`, the page that follows lists the people affected (the back
    office's affected appointments), so the conflicts are only counted."""
    if report.changed:
        messages.info(
            request,
            _(
                "Slots brought in line with the catalogue: %(created)s created, %(updated)s changed, "
                "%(deleted)s removed."
            )
            % {"created": report.created, "updated": report.updated, "deleted": report.deleted},
        )
    if report.conflicts and listed:
        messages.warning(
            request,
            ngettext(
                "%(count)s held slot no longer matches the catalogue: the person holding it is listed below; "
                "move their appointment or put it back in the queue.",
                "%(count)s held slots no longer match the catalogue: the people holding them are listed "
                "below; move their appointments or put them back in the queue.",
                len(report.conflicts),
            )
            % {"count": len(report.conflicts)},
        )
    elif report.conflicts:
        lines = "; ".join(str(conflict) for conflict in report.conflicts[:SHOWN_CONFLICTS])
        more = len(report.conflicts) - SHOWN_CONFLICTS
        messages.warning(
            request,
            ngettext(
                "%(count)s held slot no longer matches the catalogue and was left as it is; cancel or move "
                "its appointment or offer: %(lines)s",
                "%(count)s held slots no longer match the catalogue and were left as they are; cancel or "
                "move those appointments and offers: %(lines)s",
                len(report.conflicts),
            )
            % {"count": len(report.conflicts), "lines": lines}
            + (_(" … and %(more)s more.") % {"more": more} if more > 0 else ""),
        )
