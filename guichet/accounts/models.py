"""Staff accounts: roles in prefectures, two-factor secrets, recovery codes and API tokens.

Accounts are Django users. What makes a user staff is a Membership (a role in a prefecture) or the
platform administrator flag; what makes a user a partner is a partners.PartnerMember row.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guichet.catalog.models import Prefecture
from guichet.encryption import EncryptedTextField


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    MANAGER = "manager", _("Manager")
    PREFECTURE_ADMIN = "prefecture_admin", _("Prefecture administrator")


# A higher role can do everything a lower one can, in the same prefecture.
ROLE_RANK = {Role.AGENT: 1, Role.MANAGER: 2, Role.PREFECTURE_ADMIN: 3}


class StaffProfile(models.Model):
    """What Guichet keeps about an account beyond Django's user: 2FA state and platform rights."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="guichet")
    is_platform_admin = models.BooleanField(_("platform administrator"), default=False)
    # Demo accounts (manage.py demo) may have their current code printed by `manage.py staff_totp`.
    is_demo = models.BooleanField(default=False)
    # Encrypted at rest: with it and a password, anyone could make second factors.
    totp_secret = EncryptedTextField(blank=True)
    totp_confirmed_at = models.DateTimeField(null=True, blank=True)
    # The last 30-second step whose code was accepted: a code is never accepted twice.
    totp_last_step = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("account profile")
        verbose_name_plural = _("account profiles")

    def __str__(self) -> str:
        return f"profile of {self.user_id}"

    @property
    def has_2fa(self) -> bool:
        return bool(self.totp_secret) and self.totp_confirmed_at is not None


class Membership(models.Model):
    """A staff member's role in one prefecture; a person may belong to several prefectures."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    prefecture = models.ForeignKey(Prefecture, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["prefecture", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "prefecture"], name="one_membership_per_prefecture"),
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} in {self.prefecture_id}"


class RecoveryCode(models.Model):
    """A one-time code that replaces the authenticator once; only its SHA-256 is kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_unique")]

    def __str__(self) -> str:
        return f"recovery code {self.pk} of {self.user_id}"


class ApiToken(models.Model):
    """A personal API token, scoped to one prefecture (staff) or one organisation (partner).

    The token is shown once; only its SHA-256 is stored. Its public prefix finds the row. The rights it gives
    are the owner's rights at the moment of use, within its scope: a removed membership disables it.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    prefecture = models.ForeignKey(
        Prefecture, on_delete=models.CASCADE, null=True, blank=True, related_name="api_tokens"
    )
    organisation = models.ForeignKey(
        "partners.PartnerOrganisation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_tokens",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(prefecture__isnull=False) & Q(organisation__isnull=True))
                | (Q(prefecture__isnull=True) & Q(organisation__isnull=False)),
                name="api_token_one_scope",
                violation_error_message=_("A token is scoped to one prefecture or one organisation."),
            ),
        ]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())

    @property
    def scope_label(self) -> str:
        return str(self.prefecture) if self.prefecture_id else str(self.organisation)


class AccessKind(models.TextChoices):
    OPENED = "opened", _("Opened the file")
    SEARCHED = "searched", _("Searched")
    LISTED_QUEUE = "listed_queue", _("Listed the queue")
    PRINTED_LETTERS = "printed_letters", _("Printed letters")


class AccessChannel(models.TextChoices):
    PAGE = "page", _("Staff pages")
    API = "api", _("API")


class AccessRecord(models.Model):
    """One reading of applicants' personal data by a staff or partner account (DOMAIN.md R27: logged agent
    access). Changes are in the audit chains; this log is about reads: who opened which file, what they
    searched, who listed a queue, from the pages or the API. Kept ACCESS_LOG_RETENTION_DAYS, then purged
    (`manage.py purge_access_log`, daily)."""

    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_records"
    )
    kind = models.CharField(max_length=16, choices=AccessKind.choices)
    channel = models.CharField(max_length=8, choices=AccessChannel.choices)
    prefecture = models.ForeignKey(
        Prefecture, on_delete=models.PROTECT, null=True, blank=True, related_name="access_records"
    )
    request = models.ForeignKey(
        "waitlist.AppointmentRequest",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="access_records",
    )
    # What was searched, as typed (cut), or which queue: what a data protection officer needs to judge.
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["request", "-at"], name="access_by_request"),
            models.Index(fields=["user", "-at"], name="access_by_user"),
            models.Index(fields=["at"], name="access_by_time"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.request_id or self.detail} at {self.at:%Y-%m-%d %H:%M}"
