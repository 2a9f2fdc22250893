"""Dossiers: what a procedure asks (versioned questions and the list of documents) and what a person gave.

A procedure's form is published in versions (`FormVersion`), never edited once published; a request's
dossier keeps the version in force when the request was filed, and the list of documents of the request
(`AppointmentRequest.checklist_version`, R17). The dossier holds the answers and the documents, each
document reviewed by an agent (accepted, or to correct with a reason).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guichet.catalog.models import ChecklistVersion, Procedure
from guichet.waitlist.models import AppointmentRequest


class QuestionKind(models.TextChoices):
    TEXT = "text", _("Text")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice in a list")
    YES_NO = "yes_no", _("Yes or no")
    NUMBER = "number", _("Number")
    ADDRESS = "address", _("Postal address")
    COUNTRY = "country", _("Country")
    FILE = "file", _("Document to upload")


class FormVersion(models.Model):
    """One version of a procedure's form: its questions, and the list of documents published with it.

    A version without `published_at` is the manager's draft (at most one per procedure); once published,
    neither it nor its questions change, and the next change is a new draft.
    """

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="form_versions")
    number = models.PositiveIntegerField(_("version"))
    documents = models.JSONField(_("documents to bring"), default=list, blank=True)
    checklist = models.ForeignKey(
        ChecklistVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="form_versions"
    )
    published_at = models.DateTimeField(_("in force since"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["procedure", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "number"], name="form_version_unique"),
            models.UniqueConstraint(
                fields=["procedure"], condition=Q(published_at__isnull=True), name="one_form_draft"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="form_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.procedure} — form v{self.number}"

    @property
    def is_draft(self) -> bool:
        return self.published_at is None


class Question(models.Model):
    """One typed question of a form version. Texts are kept per language ({"fr": …, "ar": …}); French is
    required and stands in for a language without its own text."""

    version = models.ForeignKey(FormVersion, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    key = models.SlugField(max_length=40)
    kind = models.CharField(max_length=8, choices=QuestionKind.choices)
    labels = models.JSONField(default=dict)
    help_texts = models.JSONField(default=dict, blank=True)
    # For a choice: [{"value": "married", "labels": {"fr": "Marié(e)", …}}, …]
    choices = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=True)
    # What a valid answer is within its kind (guichet.dossiers.questions.LIMITS): {"max_length": 200} for a
    # text, {"min": "0", "max": "20", "integer": true} for a number, {"min": "1900-01-01", "not_after_today":
    # true} for a date.
    limits = models.JSONField(default=dict, blank=True)
    # Shown (and asked) only when the question `condition_key` was answered with one of `condition_values`.
    condition_key = models.SlugField(max_length=40, blank=True)
    condition_values = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["version", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="question_key_unique"),
            models.CheckConstraint(condition=Q(kind__in=QuestionKind.values), name="question_kind_known"),
        ]

    def __str__(self) -> str:
        return f"{self.version} · {self.key}"


class DossierState(models.TextChoices):
    IN_PROGRESS = "in_progress", _("Being completed")
    SUBMITTED = "submitted", _("Waiting for review")
    TO_CORRECT = "to_correct", _("Something to correct")
    COMPLETE = "complete", _("Complete")


class Dossier(models.Model):
    """The dossier behind one request: the answers and documents, and where the review stands."""

    request = models.OneToOneField(AppointmentRequest, on_delete=models.CASCADE, related_name="dossier")
    form_version = models.ForeignKey(
        FormVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="dossiers"
    )
    state = models.CharField(max_length=12, choices=DossierState.choices, default=DossierState.IN_PROGRESS)
    state_changed_at = models.DateTimeField()
    # Raised by every change: two reviewers who read the same revision cannot both write over it unseen.
    revision = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(state__in=DossierState.values), name="dossier_state_known"),
        ]

    def __str__(self) -> str:
        return f"dossier of {self.request_id}"


class Answer(models.Model):
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    value = models.TextField()
    answered_by = models.CharField(max_length=120)
    answered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dossier", "question"], name="one_answer_per_question"),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id} · {self.question_id}"


class DocumentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    ACCEPTED = "accepted", pgettext_lazy("document", "Accepted")
    TO_CORRECT = "to_correct", pgettext_lazy("document", "To correct")


class DocumentSource(models.TextChoices):
    APPLICANT = "applicant", _("Sent by the person")
    PARTNER = "partner", _("Sent by a partner organisation")
    COUNTER = "counter", _("Scanned at the counter")
    POST = "post", _("Received by post")


class Document(models.Model):
    """One file given for one item of the dossier: a document of the list ("doc-<n>", the n-th of the
    request's list) or a file question ("q-<key>"). A new file for the same item replaces the current one,
    which is kept (`replaced_at`) for the history."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="documents")
    item = models.CharField(max_length=48)
    label = models.CharField(max_length=300)
    storage_name = models.CharField(max_length=200, unique=True)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    pages = models.PositiveSmallIntegerField(default=1)
    sha256 = models.CharField(max_length=64)
    source = models.CharField(max_length=10, choices=DocumentSource.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.PENDING)
    reason = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    replaced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dossier", "item", "-uploaded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dossier", "item"],
                condition=Q(replaced_at__isnull=True),
                name="one_current_document_per_item",
            ),
            models.CheckConstraint(
                condition=~Q(status="to_correct") | ~Q(reason=""),
                name="document_correction_has_reason",
            ),
            models.CheckConstraint(condition=Q(size__gt=0), name="document_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.item} of dossier {self.dossier_id}"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
