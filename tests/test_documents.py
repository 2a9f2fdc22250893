"""Every PDF Guichet prints is tagged PDF/UA-1, with its language and title, and fetches nothing."""

from guichet import documents
from tests import pdf

PAGE = """<!doctype html><html lang="{lang}" dir="{dir}">
<head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{text}</p><img src="{qr}" alt="QR"></body></html>"""


def page(title: str, text: str, lang: str = "fr", rtl: bool = False, qr: str = "") -> str:
    return PAGE.format(
        lang=lang, dir="rtl" if rtl else "ltr", title=title, text=text, qr=qr or documents.qr_data_uri("x")
    )


def test_a_pdf_is_tagged_with_its_title():
    data = documents.write_pdf(page("استدعاء 93-K7M4-QX9T", "نص", lang="ar", rtl=True))
    info = pdf.info(data)
    assert info["Tagged"] == "yes"
    assert info["Title"] == "استدعاء 93-K7M4-QX9T"
    # Headings, paragraphs and figures, in reading order.
    assert pdf.structure(data)[:5] == ["Document", "H1", "Span", "P", "Span"]
    assert "Figure" in pdf.structure(data)


def test_a_batch_is_one_tagged_pdf_with_every_document():
    data = documents.write_pdf_batch([page("Lettre 1", "Premier"), page("Lettre 2", "Second")])
    info = pdf.info(data)
    assert info["Tagged"] == "yes" and int(info["Pages"]) == 2
    text = pdf.text(data)
    assert "Premier" in text and "Second" in text
    assert documents.write_pdf_batch([]) == b""


def test_nothing_but_inline_data_is_fetched(tmp_path):
    secret = tmp_path / "secret.svg"
    secret.write_text('<svg xmlns="http://www.w3.org/2000/svg"><text y="10">SECRET-ON-DISK</text></svg>')
    data = documents.write_pdf(page("Titre", "Texte", qr=secret.as_uri()))
    assert data.startswith(b"%PDF")
    assert "SECRET-ON-DISK" not in pdf.text(data)


def test_qr_codes_are_inline_svg():
    assert documents.qr_data_uri("https://example.org/fr/convocation/93-K7M4-QX9T/").startswith(
        "data:image/svg+xml"
    )
