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


def test_nothing_but_inline_data_is_fetched(tmp_path, weasyprint_errors):
    secret = tmp_path / "secret.svg"
    secret.write_text('<svg xmlns="http://www.w3.org/2000/svg"><text y="10">SECRET-ON-DISK</text></svg>')
    data = documents.write_pdf(page("Titre", "Texte", qr=secret.as_uri()))
    assert data.startswith(b"%PDF")
    assert "SECRET-ON-DISK" not in pdf.text(data)
    assert any("Failed to load image" in record.getMessage() for record in weasyprint_errors)
    weasyprint_errors.clear()  # refused on purpose


def test_an_image_without_a_text_alternative_fails_the_pdf_ua_check(weasyprint_errors):
    # tests/conftest.py fails any test whose PDF WeasyPrint reports an error for: this is what it catches.
    documents.write_pdf(page("Titre", "Texte").replace(' alt="QR"', ""))
    assert [record.getMessage() for record in weasyprint_errors] == [
        f'Image "{documents.qr_data_uri("x")}" has no required alt description'
    ]
    weasyprint_errors.clear()


def test_the_qr_code_is_read_back_from_the_pdf():
    data = documents.write_pdf(page("Titre", "Texte", qr=documents.qr_data_uri("https://example.org/v/1")))
    assert pdf.qr_codes(data) == ["https://example.org/v/1"]
    assert pdf.figures(data) == [{"alt": "QR"}]


def test_qr_codes_are_inline_svg():
    assert documents.qr_data_uri("https://example.org/fr/convocation/93-K7M4-QX9T/").startswith(
        "data:image/svg+xml"
    )
