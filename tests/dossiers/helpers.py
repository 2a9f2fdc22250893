"""A procedure with a published form and a list of documents, requests filed for it, and test files."""

from __future__ import annotations

import io

from guichet.dossiers import publishing
from guichet.evidence.audit import Actor

MANAGER = Actor("staff", label="manager")
DOCUMENTS = ["Passport", "Proof of address"]


def question(key: str, kind: str = "text", fr: str | None = None, **extra) -> publishing.QuestionData:
    return publishing.QuestionData(
        key=key,
        kind=kind,
        labels={"fr": fr or f"Question {key}", "ar": f"سؤال {key}", **extra.pop("labels", {})},
        help_texts=extra.pop("help_texts", {}),
        choices=extra.pop("choices", []),
        required=extra.pop("required", True),
        condition_key=extra.pop("condition_key", ""),
        condition_values=extra.pop("condition_values", None),
    )


def publish(procedure, questions: list[publishing.QuestionData], documents: list[str] | None = None):
    draft = publishing.draft_form(procedure, MANAGER)
    for data in questions:
        publishing.save_question(draft, data, MANAGER)
    publishing.set_draft_documents(draft, DOCUMENTS if documents is None else documents, MANAGER)
    return publishing.publish_form(draft, MANAGER)


def standard_form(procedure):
    """Marital status (choice), married since (date, only when married), a number and a scan question."""
    return publish(
        procedure,
        [
            question("entry-date", "date", "Date d'entrée en France"),
            question(
                "married",
                "yes_no",
                "Êtes-vous marié(e) ?",
            ),
            question(
                "spouse-name", "text", "Nom du conjoint", condition_key="married", condition_values=["yes"]
            ),
            question("children", "number", "Nombre d'enfants", required=False),
        ],
    )


def pdf_bytes(pages: int = 1, *, javascript: bool = False, attachment: bool = False) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if javascript:
        from pypdf.generic import DictionaryObject, NameObject, TextStringObject

        action = DictionaryObject(
            {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert(1)")}
        )
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    if attachment:
        writer.add_attachment("payload.txt", b"hidden")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_bytes(width: int = 40, height: int = 30, color=(200, 30, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes(width: int = 40, height: int = 30, *, exif: bool = False) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (width, height), (10, 120, 200))
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "SecretCameraMaker"  # Make
        data[0x8825] = {2: (48.0, 51.0, 30.0)}  # GPS latitude
        image.save(out, format="JPEG", exif=data.tobytes())
    else:
        image.save(out, format="JPEG")
    return out.getvalue()
