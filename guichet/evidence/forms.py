"""Forms of the evidence pages. They parse input only; the services validate and decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .signing import MAX_TOKEN_LENGTH


class VerifyForm(forms.Form):
    t = forms.CharField(
        label=_("Proof to check"),
        help_text=_("Paste the proof (the long text that starts with “ey”) or the address of the QR code."),
        # A token and an address are written left to right, in an Arabic page too.
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "autocomplete": "off", "dir": "ltr"}),
        # The service says "too long" in plain words; the form only stops absurd sizes.
        max_length=MAX_TOKEN_LENGTH * 4,
        strip=False,
    )
