"""PDFs (WeasyPrint) and QR codes (segno) for proofs and court files.

A proof's QR code carries the verification address with the token in it, so that scanning it opens the
verify page with the answer. When that address does not fit in a QR code a phone can read, the code
carries the token alone (any verifier, including ours, accepts it pasted).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from guichet import documents

logger = logging.getLogger(__name__)

# Above version 30 (137 × 137 modules) a code printed a few centimetres wide is hard for a phone to read.
MAX_QR_VERSION = 30


@dataclass(frozen=True)
class QrCode:
    data: str
    carries: str  # "url" or "token"
    code: segno.QRCode

    @property
    def version(self) -> int:
        return self.code.version

    @property
    def svg_data_uri(self) -> str:
        """For pages: a vector image, crisp at any size in a browser."""
        return self.code.svg_data_uri(scale=4, border=4, xmldecl=False, nl=False)

    @property
    def png_data_uri(self) -> str:
        """For PDFs: one pixel per module, drawn without smoothing (CSS image-rendering: pixelated).
        WeasyPrint draws this far faster than the SVG path, and the PDF stays small."""
        return self.code.png_data_uri(scale=1, border=4)


def verify_url(token: str, language: str | None = None) -> str:
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    return f"{settings.SITE_URL}/{language}/verify/?t={quote(token, safe='')}"


def _make(data: str) -> segno.QRCode | None:
    try:
        code = segno.make_qr(data, error="m", boost_error=False)
    except segno.DataOverflowError:
        return None
    return code if code.version <= MAX_QR_VERSION else None


@lru_cache(maxsize=2048)
def _proof_qr(token: str, url: str) -> QrCode | None:
    # Choosing the mask costs a few hundred milliseconds per code; a token never changes, so keep the result.
    for carries, data in (("url", url), ("token", token)):
        code = _make(data)
        if code is not None:
            return QrCode(data=data, carries=carries, code=code)
    logger.warning("proof token of %s characters does not fit in a QR code", len(token))
    return None


def proof_qr(token: str, language: str | None = None) -> QrCode | None:
    """The QR code of a proof: the verification URL if it fits, else the token alone, else nothing."""
    return _proof_qr(token, verify_url(token, language))


def render_pdf(template_name: str, context: dict) -> bytes:
    """Render an HTML template to a tagged PDF (guichet/documents.py)."""
    return documents.write_pdf(render_to_string(template_name, context))
