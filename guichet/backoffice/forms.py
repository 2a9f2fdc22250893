"""Forms of the back office. Errors are precise; a reason is required wherever an applicant is harmed."""

import datetime

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from guichet.accounts.models import Role
from guichet.catalog.models import Counter, Prefecture
from guichet.partners.models import ConsentMethod, OrganisationKind
from guichet.waitlist.models import Channel

from .services import check_received_at

REASON_MIN_LENGTH = 5


def reason_field(label=None, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label or _("Reason"),
        required=required,
        min_length=REASON_MIN_LENGTH if required else None,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Written in the request's history and in the audit log."),
    )


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        help_text=_("The 6 digits shown by your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autofocus": True,
                "inputmode": "text",
                "spellcheck": "false",
            }
        ),
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label=_("Code shown by the app"),
        max_length=10,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "numeric"}
        ),
    )


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name of the token"), max_length=80, help_text=_("What uses it, e.g. “counter kiosk”.")
    )
    scope = forms.ChoiceField(label=_("Scope"))
    expires_in_days = forms.IntegerField(
        label=_("Expires after (days)"), min_value=1, max_value=365, initial=90, required=False
    )

    def __init__(self, *args, scopes: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = scopes


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        max_length=200,
        required=False,
        help_text=_(
            "A reference (93-K7M4-QX9T), names, a birth date (31/12/1990), a foreign national number (10 "
            "digits), or names and a birth date together."
        ),
        widget=forms.SearchInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )


class ContactForm(forms.Form):
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(label=_("Mobile phone"), max_length=30, required=False)
    postal_address = forms.CharField(
        label=_("Postal address"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=500
    )
    language = forms.ChoiceField(label=_("Language of messages"), choices=settings.LANGUAGES)
    reason = reason_field()


class VulnerabilityForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Vulnerability"),
        choices=[("record", _("Record a vulnerability")), ("remove", _("Remove the recorded vulnerability"))],
        widget=forms.RadioSelect,
    )
    vulnerability = forms.CharField(
        label=_("What the vulnerability is"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example: pregnancy, serious illness, disability, person without shelter."),
    )
    reason = reason_field()

    def clean(self):
        data = super().clean()
        if data.get("action") == "record" and not (data.get("vulnerability") or "").strip():
            self.add_error("vulnerability", _("Say what the vulnerability is."))
        return data


class CloseForm(forms.Form):
    reason = reason_field(_("Reason for closing the request"))
    confirm = forms.BooleanField(
        label=_("I confirm that the request is closed and the person leaves the queue."), required=True
    )


class CancelAppointmentForm(forms.Form):
    reason = reason_field(_("Reason for cancelling the appointment"))


class MoveAppointmentForm(forms.Form):
    slot = forms.TypedChoiceField(label=_("New time"), coerce=int, widget=forms.RadioSelect)
    reason = reason_field(_("Reason for moving the appointment"))

    def __init__(self, *args, slots: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].choices = slots


class AssistedChannelForm(forms.Form):
    """How and when the person made contact: the intake form's own fields follow."""

    channel = forms.ChoiceField(
        label=_("How did the person contact the prefecture?"),
        choices=[(c.value, c.label) for c in (Channel.COUNTER, Channel.PHONE, Channel.POST)],
        widget=forms.RadioSelect,
    )
    received_at = forms.DateTimeField(
        label=_("When (date and time of the contact, or of receipt of the letter)"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    backdate_reason = forms.CharField(
        label=_("Why the contact is dated in the past"),
        required=False,
        max_length=500,
        help_text=_("Required when the time is more than an hour ago, e.g. “letter received on …”."),
    )

    def __init__(self, *args, prefecture=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.prefecture = prefecture
        # Built here, in the reader's language and with the setting in force.
        self.fields["received_at"].help_text = gettext("Leave empty for now. At most %(days)d days back.") % {
            "days": settings.ASSISTED_INTAKE_MAX_BACKDATE_DAYS
        }

    def clean_received_at(self):
        value = self.cleaned_data.get("received_at")
        if value is None:
            return None
        if timezone.is_naive(value) and self.prefecture is not None:
            value = value.replace(tzinfo=self.prefecture.tzinfo)
        return value

    def clean(self):
        data = super().clean()
        received_at = data.get("received_at")
        if received_at is not None:
            for message in check_received_at(received_at, reason=data.get("backdate_reason", "")):
                field = "backdate_reason" if message.code == "backdate_reason" else "received_at"
                self.add_error(field, message)
        return data


class ImpossibilityForm(forms.Form):
    circumstances = forms.CharField(
        label=_("What made the online service impossible to use"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Facts only: what was tried, with which help, and what failed."),
    )
    accompaniment_tried = forms.BooleanField(
        label=_("Accompaniment was offered and tried (digital help point, phone support)"), required=False
    )


class ConsentForm(forms.Form):
    consent_given_on = forms.DateField(
        label=_("Date of the client's consent"), widget=forms.DateInput(attrs={"type": "date"})
    )
    consent_method = forms.ChoiceField(label=_("How the client gave consent"), choices=ConsentMethod.choices)
    consent_form = forms.FileField(
        label=_("Signed form (PDF, JPEG or PNG)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consent_form"].help_text = gettext("Optional; at most %(size)s.") % {
            "size": filesizeformat(settings.MANDATE_FORM_MAX_BYTES)
        }


class AttachMandateForm(ConsentForm):
    reference = forms.CharField(label=_("Reference of the client's request"), max_length=20)
    birth_date = forms.DateField(
        label=_("Client's birth date"), widget=forms.DateInput(attrs={"type": "date"})
    )

    field_order = ["reference", "birth_date", "consent_given_on", "consent_method", "consent_form"]


class RevokeMandateForm(forms.Form):
    revoked_by = forms.ChoiceField(
        label=_("Who revokes the mandate"),
        choices=[("client", _("the client")), ("organisation", _("the organisation"))],
        widget=forms.RadioSelect,
    )
    reason = reason_field(required=False)


class ApplyForm(forms.Form):
    prefecture = forms.ModelChoiceField(label=_("Prefecture"), queryset=None, empty_label=None)
    name = forms.CharField(label=_("Name of the organisation"), max_length=160)
    kind = forms.ChoiceField(label=_("Kind"), choices=OrganisationKind.choices)
    registration_number = forms.CharField(
        label=_("Registration number (SIRET, RNA or bar)"), max_length=40, required=False
    )
    email = forms.EmailField(label=_("Organisation's email (copies of notices go there)"))
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    address = forms.CharField(
        label=_("Postal address"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    contact_username = forms.CharField(label=_("Your username"), max_length=150)
    contact_email = forms.EmailField(label=_("Your email"))
    contact_password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prefecture"].queryset = Prefecture.objects.all()


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("reject", _("Reject")), ("suspend", _("Suspend"))],
        widget=forms.RadioSelect,
    )
    reason = reason_field(required=False)


class NewAccountForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("Email"))
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    password = forms.CharField(
        label=_("Initial password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Give it to the person by a separate channel; they enrol their second factor at first login."
        ),
    )


class MembershipForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class PartnerMemberForm(NewAccountForm):
    is_admin = forms.BooleanField(label=_("May manage the organisation's members"), required=False)


class LettersForm(forms.Form):
    date = forms.DateField(label=_("Letters queued on"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean_date(self):
        value = self.cleaned_data["date"]
        if value > timezone.localdate() or value < timezone.localdate() - datetime.timedelta(days=366):
            raise forms.ValidationError(_("Choose a date within the last year."))
        return value


# --- court orders ---------------------------------------------------------------------------------------


class CourtOrderForm(forms.Form):
    tribunal = forms.CharField(label=_("Tribunal"), max_length=200)
    case_number = forms.CharField(label=_("Case number"), max_length=100)
    ordered_on = forms.DateField(label=_("Date of the order"), widget=forms.DateInput(attrs={"type": "date"}))
    notified_on = forms.DateField(label=_("Date notified"), widget=forms.DateInput(attrs={"type": "date"}))
    convoke_by = forms.DateField(
        label=_("Convoke by"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    appointment_by = forms.DateField(
        label=_("Appointment by"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    penalty_per_day = forms.DecimalField(
        label=_("Penalty per day of delay (EUR)"), required=False, max_digits=12, decimal_places=4
    )


class ExtraSlotForm(forms.Form):
    counter = forms.ModelChoiceField(label=_("Counter"), queryset=Counter.objects.none())
    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label=_("Start time"), widget=forms.TimeInput(attrs={"type": "time"}))
    minutes = forms.IntegerField(label=_("Length in minutes"), min_value=5, max_value=240)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)

    def __init__(self, *args, counters=None, default_minutes: int = 20, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["counter"].queryset = counters if counters is not None else Counter.objects.none()
        self.fields["minutes"].initial = default_minutes

    def starts_at(self) -> datetime.datetime:
        counter = self.cleaned_data["counter"]
        naive = datetime.datetime.combine(self.cleaned_data["day"], self.cleaned_data["start"])
        return timezone.make_aware(naive, counter.site.tzinfo)

    def ends_at(self) -> datetime.datetime:
        return self.starts_at() + datetime.timedelta(minutes=self.cleaned_data["minutes"])


class ResolveAlertForm(forms.Form):
    resolution = forms.CharField(label=_("What was done"), max_length=1000)


class CaseEndForm(forms.Form):
    ended_on = forms.DateField(
        label=_("The case ended on"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )


class RightsAnswerForm(forms.Form):
    """The answer to a person's request about their data (guichet.privacy.services.answer)."""

    decision = forms.ChoiceField(
        label=_("Answer"),
        choices=[("granted", _("Grant it (an erasure is made at once)")), ("refused", _("Refuse it"))],
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=_("Answer to the person"),
        help_text=_("A refusal states its reason and the person's recourse (the CNIL)."),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class InvitationForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(
        label=_("Email"), help_text=_("The invitation is sent there: a one-time link to choose a password.")
    )
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class PrefectureAdminInvitationForm(InvitationForm):
    """The platform administrator invites a prefecture's administrator (the role is implied)."""

    role = None
    prefecture = forms.CharField(label=_("Prefecture (département code)"), max_length=3)


def _new_password_field(label):
    return forms.CharField(
        label=label, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


class SetPasswordForm(forms.Form):
    password = _new_password_field(_("New password"))
    confirmation = _new_password_field(_("New password again"))


class ChangePasswordForm(SetPasswordForm):
    current = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["current", "password", "confirmation"]


class ForgotPasswordForm(forms.Form):
    identifier = forms.CharField(
        label=_("Username or email address"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )


class ReenrolForm(CodeForm):
    current = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class SettleAffectedForm(forms.Form):
    """The reason the people affected by a catalogue change are told, for one or all of them."""

    reason = reason_field(_("Reason given to the people affected"))
