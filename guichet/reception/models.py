"""The day of the appointment and what follows (accueil, dépôt, récépissé, décision).

A `Visit` is a person checked in at a site, with the ticket number the waiting-room display calls. A
`FileRegistration` says how the file was received at the counter (complete, or what was missing against
the request's list of documents). An `InterimDocument` is a récépissé, an attestation de prolongation
d'instruction or the L.433-3 statement, each backed by a signed proof. A `Decision` is the prefecture's
answer on the file. `InterimRule` holds, per procedure, what its récépissé says (R.431-12).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guichet.appointments.models import Appointment
from guichet.catalog.models import ChecklistVersion, Counter, Procedure, Site
from guichet.evidence.models import Proof
from guichet.waitlist.models import AppointmentRequest


class VisitStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting to be called")
    CALLED = "called", _("Called to a counter")
    ON_HOLD = "on_hold", _("On hold")
    DONE = "done", _("Seen")


class Visit(models.Model):
    """Passage: one checked-in appointment, its ticket number and where it was called."""

    appointment = models.OneToOneField(Appointment, on_delete=models.PROTECT, related_name="visit")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="visits")
    day = models.DateField(_("day"))  # the site's local date: tickets start again at 1 every day
    ticket = models.PositiveIntegerField(_("ticket"))
    status = models.CharField(
        _("status"), max_length=8, choices=VisitStatus.choices, default=VisitStatus.WAITING
    )
    checked_in_at = models.DateTimeField(_("checked in at"))
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    counter = models.ForeignKey(
        Counter, on_delete=models.PROTECT, null=True, blank=True, related_name="visits"
    )
    first_called_at = models.DateTimeField(null=True, blank=True)
    called_at = models.DateTimeField(null=True, blank=True)
    call_count = models.PositiveSmallIntegerField(default=0)
    turn_notified_at = models.DateTimeField(null=True, blank=True)
    # Read at check-in: a dossier reviewed and found complete beforehand leaves only the registration to do,
    # and the visit is planned for the procedure's registration time instead of its whole duration.
    dossier_complete = models.BooleanField(_("dossier complete at check-in"), default=False)
    planned_minutes = models.PositiveSmallIntegerField(
        _("planned minutes at the counter"), null=True, blank=True
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["day", "site", "ticket"]
        constraints = [
            models.UniqueConstraint(fields=["site", "day", "ticket"], name="one_ticket_per_site_and_day"),
            models.CheckConstraint(
                condition=Q(status__in=["waiting", "on_hold", "done"]) | Q(first_called_at__isnull=False),
                name="visit_called_has_time",
            ),
        ]
        indexes = [models.Index(fields=["site", "day", "status"], name="visit_site_day_status")]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")

    def __str__(self) -> str:
        return f"{self.site_id} {self.day} #{self.ticket_label}"

    @property
    def ticket_label(self) -> str:
        return f"{self.ticket:03d}"


class TicketSequence(models.Model):
    """The last ticket given at a site on a day: its row lock makes check-ins at a site number in turn."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "day"], name="one_ticket_sequence_per_day")]

    def __str__(self) -> str:
        return f"{self.site_id} {self.day}: {self.last}"


class FileRegistration(models.Model):
    """Dépôt du dossier: how the file was received at an appointment, against the list in force."""

    request = models.ForeignKey(AppointmentRequest, on_delete=models.PROTECT, related_name="registrations")
    appointment = models.OneToOneField(Appointment, on_delete=models.PROTECT, related_name="registration")
    complete = models.BooleanField(_("complete"))
    checklist_version = models.ForeignKey(
        ChecklistVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    missing_documents = models.JSONField(_("missing documents"), default=list, blank=True)
    registered_at = models.DateTimeField(_("registered at"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["registered_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request"], condition=Q(complete=True), name="one_complete_file_per_request"
            ),
            models.CheckConstraint(
                condition=Q(complete=True, missing_documents=[]) | Q(complete=False),
                name="complete_file_misses_nothing",
            ),
        ]
        verbose_name = _("file registration")
        verbose_name_plural = _("file registrations")

    def __str__(self) -> str:
        return f"{self.request_id} {'complete' if self.complete else 'incomplete'}"


class InterimRule(models.Model):
    """What a procedure's récépissé says (R.431-12): how long it lasts, and what it allows."""

    procedure = models.OneToOneField(Procedure, on_delete=models.CASCADE, related_name="interim_rule")
    recepisse_months = models.PositiveSmallIntegerField(
        _("récépissé valid for (months)"), default=0, help_text=_("0: this procedure gives no récépissé.")
    )
    work_allowed = models.BooleanField(_("the récépissé allows work"), default=False)
    travel_allowed = models.BooleanField(_("the récépissé allows travel abroad and return"), default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(recepisse_months__lte=12), name="recepisse_at_most_a_year")
        ]
        verbose_name = _("interim document rule")
        verbose_name_plural = _("interim document rules")

    def __str__(self) -> str:
        return f"{self.procedure}: {self.recepisse_months} months"


class InterimKind(models.TextChoices):
    RECEPISSE = "recepisse", _("Récépissé de demande de titre de séjour")
    PROLONGATION = "prolongation", _("Attestation de prolongation d'instruction")
    GRACE = "grace", _("Statement of the L.433-3 grace period")


class InterimDocument(models.Model):
    """A récépissé, an attestation de prolongation d'instruction or the L.433-3 statement, as signed."""

    request = models.ForeignKey(
        AppointmentRequest, on_delete=models.PROTECT, related_name="interim_documents"
    )
    kind = models.CharField(_("document"), max_length=12, choices=InterimKind.choices)
    number = models.PositiveSmallIntegerField(_("number"))  # 1, 2… per request and kind (renewals)
    proof = models.OneToOneField(Proof, on_delete=models.PROTECT, related_name="interim_document")
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    work_allowed = models.BooleanField(_("work allowed"))
    travel_allowed = models.BooleanField(_("travel allowed"))
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["issued_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "kind", "number"], name="interim_number_unique"),
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("valid_from")), name="interim_valid_until_after_start"
            ),
        ]
        indexes = [models.Index(fields=["valid_until"], name="interim_valid_until")]
        verbose_name = _("interim document")
        verbose_name_plural = _("interim documents")

    def __str__(self) -> str:
        return f"{self.kind} {self.number} of {self.request_id}"


class DecisionOutcome(models.TextChoices):
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")
    MORE_INFORMATION = "more_information", _("More information asked")


FINAL_OUTCOMES = (DecisionOutcome.GRANTED, DecisionOutcome.REFUSED)


class Decision(models.Model):
    """The prefecture's answer on a registered file; granted or refused is final."""

    request = models.ForeignKey(AppointmentRequest, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(_("decision"), max_length=16, choices=DecisionOutcome.choices)
    note = models.TextField(_("note"), blank=True)
    decided_at = models.DateTimeField(_("decided at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    collection_request = models.ForeignKey(
        AppointmentRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["decided_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(outcome__in=["granted", "refused"]),
                name="one_final_decision_per_request",
            )
        ]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    def __str__(self) -> str:
        return f"{self.outcome} on {self.request_id}"
