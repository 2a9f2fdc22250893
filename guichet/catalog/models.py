"""The catalogue of a prefecture: where it receives people, at which counters, for which procedures, when."""

import datetime
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from . import territory


def validate_department_code(value: str) -> None:
    if not territory.is_department_code(value):
        raise ValidationError(
            _("“%(value)s” is not a département code (for example 75, 2A, 93 or 976)."),
            params={"value": value},
        )


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value})


def validate_language_codes(value: list) -> None:
    if not isinstance(value, list) or not all(
        isinstance(code, str) and 2 <= len(code) <= 8 for code in value
    ):
        raise ValidationError(_('Give a list of language codes, for example ["ar", "en"].'))


def validate_documents(value: list) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ValidationError(_("Give the documents as a list of non-empty texts."))


class Prefecture(models.Model):
    """Préfecture: the tenant. Its département code decides its time zone and public holidays."""

    code = models.CharField(
        _("département code"), max_length=3, unique=True, validators=[validate_department_code]
    )
    name = models.CharField(_("name"), max_length=120)
    timezone = models.CharField(_("time zone"), max_length=64, blank=True, validators=[validate_timezone])
    holiday_subdivision = models.CharField(
        _("holiday subdivision"),
        max_length=8,
        blank=True,
        help_text=_("Subdivision code of the holidays package; filled from the département code when empty."),
    )
    late_renewal_attestation = models.BooleanField(
        _("issue late-renewal attestations"),
        default=False,
        help_text=_(
            "Give a signed attestation to renewal applicants still without an appointment on expiry."
        ),
    )
    contact_email = models.EmailField(_("contact email"), blank=True)
    # Printed on the counter receipt and in letters: many applicants follow their request by phone.
    contact_phone = models.CharField(
        _("contact phone"),
        max_length=30,
        blank=True,
        validators=[
            RegexValidator(
                r"^\+?[0-9][0-9 .()-]{3,28}[0-9]$",
                _("Write a phone number with digits, spaces, dots or hyphens, for example 01 23 45 67 89."),
            )
        ],
        help_text=_("The number applicants may call about their request."),
    )
    # Its staff may log in through ProConnect, the State's OpenID Connect for agents, when the deployment
    # is configured for it (settings.PROCONNECT_ENABLED; docs/backoffice.md).
    proconnect_enabled = models.BooleanField(
        _("staff may log in with ProConnect"),
        default=False,
        help_text=_(
            "Only accounts that already exist, matched by their email address; no account is created."
        ),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("prefecture")
        verbose_name_plural = _("prefectures")

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"

    def save(self, *args, **kwargs):
        if not self.timezone:
            self.timezone = territory.timezone_for(self.code)
        if not self.holiday_subdivision:
            self.holiday_subdivision = territory.holiday_subdivision_for(self.code)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.holiday_subdivision and self.holiday_subdivision not in territory.holiday_subdivisions():
            raise ValidationError(
                {
                    "holiday_subdivision": ValidationError(
                        _(
                            "“%(value)s” is not a holiday subdivision; leave it empty to use the one of the "
                            "département (known: %(known)s)."
                        ),
                        params={
                            "value": self.holiday_subdivision,
                            "known": ", ".join(territory.holiday_subdivisions()),
                        },
                    )
                }
            )

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone or territory.timezone_for(self.code))


class Site(models.Model):
    """Site d'accueil: a place that receives the public (the prefecture itself, a sous-préfecture)."""

    prefecture = models.ForeignKey(
        Prefecture, on_delete=models.PROTECT, related_name="sites", verbose_name=_("prefecture")
    )
    name = models.CharField(_("name"), max_length=120)
    address = models.TextField(_("address"))
    postal_code = models.CharField(_("postal code"), max_length=5)
    city = models.CharField(_("city"), max_length=80)
    timezone = models.CharField(_("time zone"), max_length=64, blank=True, validators=[validate_timezone])
    step_free = models.BooleanField(_("step-free access"), default=False)
    access_notes = models.TextField(_("how to get there"), blank=True)
    latitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["prefecture", "name"]
        constraints = [models.UniqueConstraint(fields=["prefecture", "name"], name="site_name_unique")]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.timezone:
            self.timezone = self.prefecture.timezone or territory.timezone_for(self.prefecture.code)
        super().save(*args, **kwargs)

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Counter(models.Model):
    """Guichet: a desk at a site, with the languages its agents speak besides French."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="counters", verbose_name=_("site"))
    name = models.CharField(_("name"), max_length=80)
    languages = models.JSONField(
        _("languages besides French"), default=list, blank=True, validators=[validate_language_codes]
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["site", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="counter_name_unique")]
        verbose_name = _("counter")
        verbose_name_plural = _("counters")

    def __str__(self) -> str:
        return f"{self.site.name} — {self.name}"


class Procedure(models.Model):
    """Démarche: what a person comes for. Its settings drive due dates, notice and offers."""

    class Kind(models.TextChoices):
        FIRST_PERMIT = "first_permit", _("First residence permit")
        RENEWAL = "renewal", _("Renewal of a residence permit")
        CHANGE_OF_STATUS = "change_of_status", _("Change of status")
        DUPLICATE = "duplicate", _("Duplicate of a lost or stolen permit")
        MODIFICATION = "modification", _("Change of address or civil status on a permit")
        TRAVEL_DOCUMENT = "travel_document", _("Travel document for a foreign national")
        MINOR_TRAVEL_DOCUMENT = "dcem", _("Travel document for a foreign minor (DCEM)")
        RECEIPT = "recepisse", _("Receipt (récépissé) renewal")
        COLLECTION = "collection", _("Collection of a residence permit")

    class Mode(models.TextChoices):
        QUEUE = "queue", _("Queue: slots are offered in due-date order")
        OPEN = "open", _("Open: people pick a free slot while nobody waits")

    prefecture = models.ForeignKey(
        Prefecture, on_delete=models.PROTECT, related_name="procedures", verbose_name=_("prefecture")
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=160)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    description = models.TextField(_("description"), blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration in minutes"), validators=[MinValueValidator(5), MaxValueValidator(240)]
    )
    # A dossier found complete before the visit leaves only the registration to do at the counter.
    registration_minutes = models.PositiveSmallIntegerField(
        _("duration when the dossier is complete (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(5), MaxValueValidator(240)],
        help_text=_(
            "The visit of a person whose dossier was reviewed and found complete beforehand: registration "
            "only. Empty: the ordinary duration."
        ),
    )
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, default=Mode.QUEUE)
    target_wait_days = models.PositiveSmallIntegerField(
        _("target wait in days"), validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    vulnerable_target_wait_days = models.PositiveSmallIntegerField(
        _("target wait in days for a recorded vulnerability"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    minimum_notice_hours = models.PositiveSmallIntegerField(
        _("minimum notice in hours"), default=48, validators=[MaxValueValidator(24 * 60)]
    )
    postal_notice_hours = models.PositiveSmallIntegerField(
        _("minimum notice in hours for people reachable only by post"),
        default=240,
        validators=[MaxValueValidator(24 * 90)],
    )
    offer_validity_hours = models.PositiveSmallIntegerField(
        _("offer validity in hours"),
        default=72,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 14)],
    )
    is_renewal = models.BooleanField(_("renewal of a permit"), default=False)
    renewal_window_opens_days = models.PositiveSmallIntegerField(
        _("filing window opens (days before expiry)"),
        default=120,
        help_text=_("CESEDA R.431-5: 120 days for titles filed online, 60 (two months) for the others."),
    )
    renewal_window_closes_days = models.PositiveSmallIntegerField(
        _("filing window closes (days before expiry)"),
        default=60,
        help_text=_("After this the person is late and a late fee may apply; the request is still accepted."),
    )
    renewal_safety_margin_days = models.PositiveSmallIntegerField(
        _("safety margin before expiry (days)"), default=15
    )
    documents = models.JSONField(
        _("documents to bring"), default=list, blank=True, validators=[validate_documents]
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["prefecture", "name"]
        constraints = [
            models.UniqueConstraint(fields=["prefecture", "code"], name="procedure_code_unique"),
            models.CheckConstraint(
                condition=Q(renewal_window_opens_days__gte=models.F("renewal_window_closes_days")),
                name="procedure_renewal_window_ordered",
                violation_error_message=_("The filing window must open before it closes."),
            ),
        ]
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (
            self.vulnerable_target_wait_days is not None
            and self.target_wait_days is not None
            and self.vulnerable_target_wait_days > self.target_wait_days
        ):
            raise ValidationError(
                {"vulnerable_target_wait_days": _("It must not be longer than the ordinary target wait.")}
            )
        if (
            self.registration_minutes is not None
            and self.duration_minutes is not None
            and self.registration_minutes > self.duration_minutes
        ):
            raise ValidationError(
                {"registration_minutes": _("It must not be longer than the ordinary duration.")}
            )
        if self.is_renewal and self.kind not in {self.Kind.RENEWAL, self.Kind.RECEIPT}:
            raise ValidationError({"is_renewal": _("Only a renewal procedure can be marked as a renewal.")})
        if self.pk is not None and self.duration_minutes is not None:
            # A longer procedure must still fit in the slots of every rule that serves it.
            too_short = (
                self.opening_rules.filter(slot_minutes__lt=self.duration_minutes)
                .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=datetime.date.today()))
                .select_related("counter__site")
                .first()
            )
            if too_short is not None:
                raise ValidationError(
                    {
                        "duration_minutes": ValidationError(
                            _(
                                "The opening rule “%(rule)s” has slots of %(slot)s minutes, shorter "
                                "than %(duration)s minutes: lengthen its slots or remove this procedure "
                                "from it first."
                            ),
                            params={
                                "rule": too_short,
                                "slot": too_short.slot_minutes,
                                "duration": self.duration_minutes,
                            },
                        )
                    }
                )


class ChecklistVersion(models.Model):
    """One published version of a procedure's list of documents to bring (R17).

    CESEDA R.431-11: the documents are those of a list fixed by arrêté, and a prefecture may not ask for
    more. A list is never edited in place: a change of `Procedure.documents` publishes a new version
    (guichet.catalog.services.current_checklist), and every request keeps the version in force when it was
    filed, so that what a person was asked to bring can always be shown, dated.
    """

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="checklist_versions")
    number = models.PositiveIntegerField(_("version"))
    documents = models.JSONField(_("documents to bring"), default=list, validators=[validate_documents])
    published_at = models.DateTimeField(_("in force since"))

    class Meta:
        ordering = ["procedure", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "number"], name="checklist_version_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="checklist_version_positive"),
        ]
        verbose_name = _("list of documents")
        verbose_name_plural = _("lists of documents")

    def __str__(self) -> str:
        return f"{self.procedure} — v{self.number}"


class OpeningRule(models.Model):
    """Plage d'ouverture: a counter opens every given weekday for some procedures, between two dates."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    counter = models.ForeignKey(
        Counter, on_delete=models.CASCADE, related_name="opening_rules", verbose_name=_("counter")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("opens at"))
    end_time = models.TimeField(_("closes at"))
    slot_minutes = models.PositiveSmallIntegerField(
        _("slot length in minutes"), validators=[MinValueValidator(5), MaxValueValidator(240)]
    )
    procedures = models.ManyToManyField(Procedure, related_name="opening_rules", verbose_name=_("procedures"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        ordering = ["counter", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")),
                name="opening_rule_end_after_start",
                violation_error_message=_("The closing time must be after the opening time."),
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="opening_rule_valid_period",
                violation_error_message=_("The end of validity must not be before its start."),
            ),
        ]
        verbose_name = _("opening rule")
        verbose_name_plural = _("opening rules")

    def __str__(self) -> str:
        return f"{self.counter} · {self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.start_time is not None and self.end_time is not None:
            if self.end_time <= self.start_time:
                errors.setdefault("end_time", []).append(
                    _("The closing time must be after the opening time.")
                )
            elif self.slot_minutes and self.length_minutes() < self.slot_minutes:
                errors.setdefault("slot_minutes", []).append(_("The opening is shorter than one slot."))
        if self.valid_until and self.valid_from and self.valid_until < self.valid_from:
            errors.setdefault("valid_until", []).append(
                _("The end of validity must not be before its start.")
            )
        complete = None not in (
            self.counter_id,
            self.weekday,
            self.start_time,
            self.end_time,
            self.valid_from,
        )
        if not errors and complete:
            clash = self.overlapping_rules().first()
            if clash is not None:
                errors.setdefault("__all__", []).append(
                    ValidationError(
                        _(
                            "This opening overlaps another rule of the same counter: %(rule)s, valid "
                            "%(period)s. Change the times, the weekday or the validity dates of one of them."
                        ),
                        params={"rule": clash, "period": clash.validity_display()},
                    )
                )
        if errors:
            raise ValidationError(errors)

    def length_minutes(self) -> int:
        start = datetime.datetime.combine(datetime.date.min, self.start_time)
        end = datetime.datetime.combine(datetime.date.min, self.end_time)
        return int((end - start).total_seconds() // 60)

    def overlapping_rules(self) -> models.QuerySet["OpeningRule"]:
        """Rules of the same counter, weekday and time that are valid on at least one common date."""
        rules = OpeningRule.objects.filter(
            counter_id=self.counter_id,
            weekday=self.weekday,
            start_time__lt=self.end_time,
            end_time__gt=self.start_time,
        ).exclude(pk=self.pk)
        rules = rules.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=self.valid_from))
        if self.valid_until:
            rules = rules.filter(valid_from__lte=self.valid_until)
        return rules

    def validity_display(self) -> str:
        if self.valid_until is None:
            return _("from %(start)s") % {"start": self.valid_from.isoformat()}
        return _("from %(start)s to %(end)s") % {
            "start": self.valid_from.isoformat(),
            "end": self.valid_until.isoformat(),
        }

    def is_valid_on(self, day: datetime.date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


class Closure(models.Model):
    """Fermeture exceptionnelle: a whole site, or one counter, closed on some dates."""

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, null=True, blank=True, related_name="closures", verbose_name=_("site")
    )
    counter = models.ForeignKey(
        Counter,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="closures",
        verbose_name=_("counter"),
    )
    start_date = models.DateField(_("first day closed"))
    end_date = models.DateField(_("last day closed"))
    reason = models.CharField(_("reason"), max_length=200)

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(site__isnull=False) & Q(counter__isnull=True))
                | (Q(site__isnull=True) & Q(counter__isnull=False)),
                name="closure_site_xor_counter",
                violation_error_message=_("A closure concerns either a whole site or one counter, not both."),
            ),
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="closure_dates_ordered",
                violation_error_message=_("The last day closed must not be before the first."),
            ),
        ]
        verbose_name = _("closure")
        verbose_name_plural = _("closures")

    def __str__(self) -> str:
        place = self.counter or self.site
        return f"{place}: {self.start_date} – {self.end_date} ({self.reason})"

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.site_id is not None and self.counter_id is not None:
            errors["counter"] = [
                _("A closure concerns either a whole site or one counter, not both: empty one of them.")
            ]
        elif self.site_id is None and self.counter_id is None:
            errors["site"] = [_("Choose the site that is closed, or else the counter.")]
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = [_("The last day closed must not be before the first.")]
        if errors:
            raise ValidationError(errors)

    @property
    def prefecture(self) -> Prefecture:
        site = self.site if self.site_id is not None else self.counter.site
        return site.prefecture


class CatalogueVersion(models.Model):
    """One row whose stamp changes with every write to a catalogue table, in the writing transaction.

    Database triggers change it (guichet/catalog/versioning.py), so no write escapes: the back office's
    editor, the admin, a bulk update, a migration or a shell. Requests read it once to know whether the copy
    of the catalogue their process keeps (guichet/catalog/cached.py) still says what the tables say. A
    random stamp, not a counter: a rolled-back write leaves the stamp it found, and a later write never
    gives an earlier stamp back.
    """

    stamp = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("catalogue version")
        verbose_name_plural = _("catalogue versions")

    def __str__(self) -> str:
        return self.stamp
