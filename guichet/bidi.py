"""Left-to-right tokens (references, dates in figures, times, phone numbers, links) inside right-to-left text.

Without an isolate the bidirectional algorithm reorders the runs of such a token in an Arabic sentence:
"93-K7M4-QX9T" shows as "K7M4-QX9T-93" and "31/03/2025" as "2025/03/31". HTML pages wrap them in
``<bdi dir="ltr">`` (the ``ltr`` template filter); plain text (SMS, email, PDF text) uses the Unicode isolates
below, added only for right-to-left languages so that a French SMS keeps its cheaper alphabet.
"""

from __future__ import annotations

from django.utils import translation

LEFT_TO_RIGHT_ISOLATE = "\u2066"
POP_DIRECTIONAL_ISOLATE = "\u2069"


def isolate(text: str) -> str:
    """``text`` as a left-to-right isolate when the active language is right to left."""
    if text and translation.get_language_bidi():
        return f"{LEFT_TO_RIGHT_ISOLATE}{text}{POP_DIRECTIONAL_ISOLATE}"
    return text
