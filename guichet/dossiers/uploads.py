"""Checking a document a person gives, by its content: what it is, how big, how many pages, nothing active.

A file is accepted only as a PDF, JPEG or PNG recognised by its first bytes (a web page saved as
"passport.pdf" is refused). Images are decoded within a pixel budget (a decompression bomb is refused
before it is decoded) and re-encoded, which drops whatever rode along in them (metadata, trailing data).
PDFs are parsed with pypdf within its decompression limits, at most DOSSIER_MAX_PDF_PAGES pages, and
refused when they carry scripts, embedded files, launch actions, rich media or XFA forms. Nothing here
writes anything: the service stores the checked bytes only after every check passed.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader, apply_configuration
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from guichet.partners.uploads import sniff

# Characters that change the direction or the look of a name without being seen: "invoice‮fdp.exe"
# displays as "invoiceexe.pdf".
INVISIBLE_CONTROLS = frozenset(
    "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
)
MAX_NAME_LENGTH = 150

# PDF names that mean the file can act when opened, or carries other files.
ACTIVE_PDF_KEYS = frozenset(
    {"/JS", "/JavaScript", "/EmbeddedFile", "/EmbeddedFiles", "/Launch", "/RichMedia", "/XFA", "/GoToE"}
)
ACTIVE_PDF_VALUES = frozenset({"/JavaScript", "/Launch", "/EmbeddedFile", "/RichMedia", "/GoToE"})
# Objects visited when looking for active content; a genuine scan has a few hundred.
MAX_PDF_OBJECTS = 50_000


class Refused(Exception):
    """The file is refused; `message` says why, in the person's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CheckedFile:
    content: bytes
    content_type: str
    extension: str
    pages: int
    name: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def clean_name(name: str) -> str:
    """The file's name as the person gave it, refused when it hides a path or characters that disguise it."""
    name = unicodedata.normalize("NFC", name or "").strip()
    if not name:
        return "document"
    if "/" in name or "\\" in name or name in {".", ".."}:
        raise Refused(_("The file name must not contain “/” or “\\”: rename the file and send it again."))
    if any(char in INVISIBLE_CONTROLS or unicodedata.category(char) in {"Cc", "Cf"} for char in name):
        raise Refused(
            _("The file name contains invisible control characters: rename the file and send it again.")
        )
    if len(name) > MAX_NAME_LENGTH:
        raise Refused(
            _("The file name is too long (at most %(count)s characters).") % {"count": MAX_NAME_LENGTH}
        )
    return name


def read_limited(upload) -> bytes:
    """The upload's bytes, refused beyond DOSSIER_MAX_FILE_BYTES without reading more than that."""
    limit = settings.DOSSIER_MAX_FILE_BYTES
    too_large = _("The file is too large (at most %(limit)s).") % {"limit": filesizeformat(limit)}
    if getattr(upload, "size", None) is not None and upload.size > limit:
        raise Refused(too_large)
    upload.seek(0)
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise Refused(too_large)
    if not content:
        raise Refused(_("The file is empty."))
    return content


def check(content: bytes, name: str) -> CheckedFile:
    """The file ready to store (images re-encoded), or Refused with the reason."""
    name = clean_name(name)
    found = sniff(content[:16])
    if found is None:
        raise Refused(_("Only a PDF, JPEG or PNG file is accepted; this file is none of them."))
    content_type, extension = found
    if content_type == "application/pdf":
        return CheckedFile(content, content_type, extension, _pdf_pages(content), name)
    stored, content_type, extension = _reencoded_image(content, content_type)
    return CheckedFile(stored, content_type, extension, 1, name)


# --- images ------------------------------------------------------------------------------------------------


def _reencoded_image(content: bytes, content_type: str) -> tuple[bytes, str, str]:

    limit = settings.DOSSIER_MAX_IMAGE_PIXELS
    damaged = _("This image is damaged or is not really a JPEG or PNG image.")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice it: here any image over the budget is refused.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                if image.format not in {"JPEG", "PNG"}:
                    raise Refused(damaged)
                width, height = image.size
                if width * height > limit or getattr(image, "n_frames", 1) > 1:
                    raise Refused(_bomb_message())
                image.load()
                image = ImageOps.exif_transpose(image)
                return _encode(image, content_type)
    except Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused(_bomb_message()) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise Refused(damaged) from None


def _encode(image, content_type: str) -> tuple[bytes, str, str]:
    out = io.BytesIO()
    if content_type == "image/png":
        if image.mode not in {"1", "L", "LA", "RGB", "RGBA"}:
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        image.save(out, format="PNG", optimize=True)
        return out.getvalue(), "image/png", "png"
    if image.mode not in {"L", "RGB"}:
        image = image.convert("RGB")
    image.save(out, format="JPEG", quality=88)
    return out.getvalue(), "image/jpeg", "jpg"


def _bomb_message() -> str:
    return _("This image is too large (at most %(count)s million pixels): scan it at a lower resolution.") % {
        "count": settings.DOSSIER_MAX_IMAGE_PIXELS // 1_000_000
    }


# --- PDFs --------------------------------------------------------------------------------------------------


def _pdf_limits() -> dict[str, int]:
    """pypdf's decompression limits, lowered to a few times the largest file: a small file that inflates
    to gigabytes (a decompression bomb) stops pypdf, and is refused as damaged."""
    limit = settings.DOSSIER_MAX_FILE_BYTES * 8
    return {
        "zlib_maximum_output_length": limit,
        "lzw_maximum_output_length": limit,
        "run_length_maximum_output_length": limit,
        "brotli_maximum_output_length": limit,
        "array_based_stream_maximum_output_length": limit,
        "maximum_declared_stream_length": limit,
        "stream_decoding_work_maximum_length": limit,
        "disable_legacy_handling": True,
    }


def _pdf_pages(content: bytes) -> int:

    damaged = _("This PDF file is damaged or incomplete.")
    if b"%%EOF" not in content[-2048:]:
        raise Refused(damaged)
    try:
        with apply_configuration(**_pdf_limits()):
            return _checked_pages(PdfReader(io.BytesIO(content), strict=False), damaged)
    except Refused:
        raise
    except Exception:  # pypdf raises many kinds of error on hostile input; all mean the same to the person
        raise Refused(damaged) from None


def _checked_pages(reader, damaged: str) -> int:
    if reader.is_encrypted:
        raise Refused(_("This PDF is protected by a password: send it without the protection."))
    pages = len(reader.pages)
    limit = settings.DOSSIER_MAX_PDF_PAGES
    if pages > limit:
        raise Refused(
            _("This PDF has %(pages)s pages; at most %(limit)s are accepted. Send only the pages asked.")
            % {"pages": pages, "limit": limit}
        )
    if pages == 0:
        raise Refused(damaged)
    if _has_active_content(reader):
        raise Refused(
            _(
                "This PDF contains scripts or attached files, which are not accepted: print it to a new "
                "PDF, or scan the paper, and send that."
            )
        )
    return pages


def _has_active_content(reader) -> bool:
    """Walk every object reachable from the trailer (not page content streams) for active names."""

    seen: set[tuple[int, int]] = set()
    stack = [reader.trailer]
    visited = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            ident = (obj.idnum, obj.generation)
            if ident in seen:
                continue
            seen.add(ident)
            obj = obj.get_object()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            return True
        if isinstance(obj, DictionaryObject):
            for key, value in obj.items():
                if key in ACTIVE_PDF_KEYS:
                    return True
                if key in {"/S", "/Type", "/Subtype"} and isinstance(value, NameObject):
                    if value in ACTIVE_PDF_VALUES:
                        return True
                if key not in {"/Parent", "/Contents"}:
                    stack.append(value)
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return False
