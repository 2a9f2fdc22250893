"""Checking an uploaded signed mandate form by its content, never by its name or declared type."""

import io

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from guichet.errors import InvalidInput

# (content type, extension, magic bytes at offset 0)
_SIGNATURES = (
    ("application/pdf", "pdf", b"%PDF-"),
    ("image/png", "png", b"\x89PNG\r\n\x1a\n"),
    ("image/jpeg", "jpg", b"\xff\xd8\xff"),
)


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a PDF, PNG or JPEG recognised by its first bytes, else None."""
    for content_type, extension, magic in _SIGNATURES:
        if head.startswith(magic):
            return content_type, extension
    return None


def _refuse(message) -> InvalidInput:
    return InvalidInput("invalid_upload", message, fields={"consent_form": [message]})


def check_mandate_form(upload: UploadedFile, field: str = "consent_form") -> tuple[str, str]:
    """Accept a PDF, JPEG or PNG within the size limit; returns (content type, extension from the content).

    A PDF named "form.png" is a PDF and is stored as one; a text file named "form.pdf" is refused.
    Images are also opened with Pillow so that a file with only the right first bytes is refused.
    """
    limit = settings.MANDATE_FORM_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise _refuse(_("The file is too large (at most %(limit)s).") % {"limit": filesizeformat(limit)})
    if not upload.size:
        raise _refuse(_("The file is empty."))
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    found = sniff(head)
    if found is None:
        raise _refuse(_("Only a PDF, JPEG or PNG file is accepted; this file is none of them."))
    content_type, extension = found
    if content_type == "application/pdf":
        # A real PDF ends with an end-of-file marker near its end.
        upload.seek(max(0, upload.size - 1024))
        tail = upload.read()
        upload.seek(0)
        if b"%%EOF" not in tail:
            raise _refuse(_("This PDF file is damaged or incomplete."))
    else:
        data = upload.read()
        upload.seek(0)
        expected = "PNG" if content_type == "image/png" else "JPEG"
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
                format_found = image.format
        except (
            UnidentifiedImageError,
            Image.DecompressionBombError,
            OSError,
            SyntaxError,
            ValueError,
        ) as exc:
            raise _refuse(_("The image is damaged or of another type than it seems.")) from exc
        if format_found != expected:
            raise _refuse(_("The image is damaged or of another type than it seems."))
    return content_type, extension
