"""Evidence: signing keys, signed proofs, the hash-chained audit log, court orders."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guichet.waitlist.models import AppointmentRequest


class SigningKey(models.Model):
    """The public half of an Ed25519 key; published in the JWK set for as long as the row exists."""

    kid = models.CharField(max_length=64, unique=True)
    public_key = models.CharField(max_length=64, help_text="base64url of the raw 32-byte public key")
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.kid


class ProofEvent(models.TextChoices):
    RECEIVED = "received", _("Request received")
    OFFER_MADE = "offer_made", _("Offer made")
    OFFER_DECLINED = "offer_declined", _("Offer declined")
    OFFER_LAPSED = "offer_lapsed", _("Offer lapsed")
    OFFER_WITHDRAWN = "offer_withdrawn", _("Offer withdrawn")
    APPOINTMENT_CONFIRMED = "appointment_confirmed", _("Appointment confirmed")
    APPOINTMENT_CANCELLED = "appointment_cancelled", _("Appointment cancelled")
    CHECKED_IN = "checked_in", _("Checked in")
    SERVED = "served", _("Served")
    NO_SHOW = "no_show", _("Did not come")
    STILL_WAITING = "still_waiting", _("Still waiting")
    PAUSED = "paused", _("Request paused")
    REACTIVATED = "reactivated", _("Request reactivated")
    WITHDRAWN = "withdrawn", _("Request withdrawn")
    CLOSED = "closed", _("Request closed")
    DUE_DATE_CHANGED = "due_date_changed", _("Due date changed")
    COURT_ORDER = "court_order", _("Court order recorded")
    LATE_RENEWAL = "late_renewal", _("Request made before the permit expired")
    IMPOSSIBILITY = "impossibility", _("Online service found impossible to use")
    DETAILS_CHANGED = "details_changed", _("Details changed")
    REFUSED_AT_COUNTER = "refused_at_counter", _("Refused at the counter")
    FILE_REGISTERED = "file_registered", _("File registered")
    FILE_INCOMPLETE = "file_incomplete", _("File incomplete")
    RECEPISSE = "recepisse", _("Récépissé issued")
    PROLONGATION = "prolongation", _("Attestation of extended examination issued")
    GRACE_PERIOD = "grace_period", _("Statement of the grace period issued")
    DECISION = "decision", _("Decision on the file")
    IDENTITY_CHANGED = "identity_changed", _("Identity changed")
    DOSSIER_ANSWERS = "dossier_answers", _("Answers of the dossier saved")
    DOCUMENT_SENT = "document_sent", _("Document sent for the dossier")
    DOCUMENT_SCANNED = "document_scanned", _("Document scanned at the counter")
    DOCUMENT_BY_POST = "document_by_post", _("Document received by post")
    DOSSIER_SUBMITTED = "dossier_submitted", _("Dossier sent for review")
    DOSSIER_REVIEWED = "dossier_reviewed", _("Dossier reviewed")
    CORRECTION_ASKED = "correction_asked", _("Correction asked")
    DOSSIER_COMPLETE = "dossier_complete", _("Dossier complete")


class Proof(models.Model):
    """Accusé, attestation: a JWS (EdDSA) signed statement about one event of a request.

    The token names the person, so it is the part that erasure removes (set to ""; on PostgreSQL the
    only change the database accepts on a proof). The fingerprint, SHA-256 of the token, stays: the audit
    entry of the event records it, and a copy the person kept is still recognised as issued here
    (docs/privacy.md).
    """

    request = models.ForeignKey(AppointmentRequest, on_delete=models.PROTECT, related_name="proofs")
    event = models.CharField(max_length=24, choices=ProofEvent.choices)
    issued_at = models.DateTimeField()
    kid = models.CharField(max_length=64)
    token = models.TextField(blank=True)
    fingerprint = models.CharField(max_length=64, db_index=True)

    class Meta:
        ordering = ["issued_at", "id"]
        indexes = [models.Index(fields=["request", "issued_at"], name="proof_request_time")]
        constraints = [models.CheckConstraint(condition=~Q(fingerprint=""), name="proof_has_fingerprint")]

    def __str__(self) -> str:
        return f"{self.event} {self.request_id} {self.issued_at:%Y-%m-%d}"

    @property
    def erased(self) -> bool:
        return not self.token


class AuditChainHead(models.Model):
    """The last entry of one audit chain (one per prefecture, plus the platform's).

    Appending locks this row, so entries of one chain are written one after the other and the
    sequence never forks.
    """

    chain = models.CharField(max_length=16, primary_key=True)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"{self.chain}#{self.last_seq}"


class AuditEntry(models.Model):
    """One state change, chained by SHA-256 to the entry before it in the same chain. Append-only."""

    chain = models.CharField(max_length=16)
    seq = models.BigIntegerField()
    at = models.DateTimeField()
    actor = models.CharField(max_length=200)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    request = models.ForeignKey(
        AppointmentRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_entries"
    )
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["chain", "seq"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique")]

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq} {self.action}"

    @property
    def readable_data(self) -> dict:
        """The data as staff read it: the personal fields back in place while they exist, no digests."""
        data = {name: value for name, value in self.data.items() if name not in ("personal", "proof_sha256")}
        personal = getattr(self, "personal_data", None)
        if personal is not None:
            data.update(personal.fields)
        return data


class AuditPersonalData(models.Model):
    """The personal fields of one audit entry (free texts: reasons, notes, circumstances), kept apart.

    The entry itself carries `personal`: SHA-256 of this row's salt and fields (canonical JSON), which the
    chain's hash covers. Erasing a person deletes these rows; the chain, which never held the fields,
    still verifies, and while a row exists its fields are checked against the commitment.
    """

    entry = models.OneToOneField(
        AuditEntry, on_delete=models.PROTECT, primary_key=True, related_name="personal_data"
    )
    salt = models.CharField(max_length=32)
    fields = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"personal data of audit entry {self.entry_id}"


class CourtOrder(models.Model):
    """Décision du tribunal: an order to give the applicant an appointment within a deadline."""

    request = models.ForeignKey(AppointmentRequest, on_delete=models.PROTECT, related_name="court_orders")
    tribunal = models.CharField(_("tribunal"), max_length=120)
    case_number = models.CharField(_("case number"), max_length=40)
    ordered_on = models.DateField(_("date of the order"))
    notified_on = models.DateField(_("date notified"))
    convoke_by = models.DateField(_("convoke by"), null=True, blank=True)
    appointment_by = models.DateField(_("appointment by"), null=True, blank=True)
    penalty_per_day = models.DecimalField(
        _("penalty per day (EUR)"), max_digits=8, decimal_places=2, default=0
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.CharField(max_length=200)
    # While a case is pending, the request's attempts and proofs are kept whatever their age (R27).
    case_ended_on = models.DateField(_("case ended on"), null=True, blank=True)

    class Meta:
        ordering = ["-notified_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(convoke_by__isnull=False) | Q(appointment_by__isnull=False),
                name="court_order_has_deadline",
                violation_error_message=_(
                    "Give at least one deadline: to convoke, or to hold the appointment."
                ),
            ),
            models.UniqueConstraint(fields=["request", "case_number"], name="court_order_case_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.tribunal} {self.case_number}"

    @property
    def deadline(self):
        """The date by which the appointment must be given (the earliest of the two deadlines)."""
        return min(d for d in (self.convoke_by, self.appointment_by) if d is not None)


class AuditCheckpoint(models.Model):
    """A signed statement of an audit chain's head at one moment (daily).

    Published or printed, it proves what the chain contained then: rewriting the chain afterwards,
    even with every hash recomputed, no longer matches a signed checkpoint.
    """

    chain = models.CharField(max_length=16)
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    at = models.DateTimeField()
    kid = models.CharField(max_length=64)
    token = models.TextField()

    class Meta:
        ordering = ["chain", "at", "id"]
        indexes = [models.Index(fields=["chain", "at"], name="audit_checkpoint_chain_at")]

    def __str__(self) -> str:
        return f"checkpoint {self.chain}#{self.seq} {self.at:%Y-%m-%d}"


class CourtOrderAlert(models.Model):
    """Something managers must act on for a court order (no slot before the deadline, deadline close)."""

    class Kind(models.TextChoices):
        NO_SLOT = "no_slot", _("No compatible free slot before the deadline")
        DEADLINE_NEAR = "deadline_near", _("The deadline is near and there is no appointment")
        MISSED = "missed", _("The deadline has passed without an appointment")

    order = models.ForeignKey(CourtOrder, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(_("raised at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.CharField(max_length=200, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open alert of a kind per order: a repeated check does not flood managers.
            models.UniqueConstraint(
                fields=["order", "kind"], condition=Q(resolved_at__isnull=True), name="court_alert_one_open"
            )
        ]
        verbose_name = _("court order alert")
        verbose_name_plural = _("court order alerts")

    def __str__(self) -> str:
        return f"{self.kind} for {self.order}"
