"""Documents are judged by their content: type, size, pages, active content, pixels; names are checked."""

import io
import zipfile

import pytest
from PIL import Image

from guichet.dossiers import uploads

from . import helpers


def test_a_pdf_is_accepted_as_it_is_with_its_pages_counted(settings):
    content = helpers.pdf_bytes(3)
    checked = uploads.check(content, "passeport.pdf")
    assert (checked.content_type, checked.pages, checked.content) == ("application/pdf", 3, content)


def test_the_type_comes_from_the_content_not_the_name():
    assert uploads.check(helpers.pdf_bytes(), "photo.png").content_type == "application/pdf"
    with pytest.raises(uploads.Refused, match="PDF, JPEG or PNG"):
        uploads.check(b"<!doctype html><html><body>Passport</body></html>", "passport.pdf")


def test_images_are_reencoded_without_their_metadata():
    original = helpers.jpeg_bytes(exif=True)
    assert b"SecretCameraMaker" in original
    checked = uploads.check(original, "photo.jpg")
    assert checked.content_type == "image/jpeg"
    assert b"SecretCameraMaker" not in checked.content
    with Image.open(io.BytesIO(checked.content)) as image:
        assert image.size == (40, 30) and not image.getexif()
    trailing = helpers.png_bytes() + b"<script>alert(1)</script>"
    assert b"<script>" not in uploads.check(trailing, "scan.png").content


@pytest.mark.parametrize(
    ("options", "reason"),
    [({"javascript": True}, "scripts"), ({"attachment": True}, "attached files")],
)
def test_pdfs_with_scripts_or_embedded_files_are_refused(options, reason):
    with pytest.raises(uploads.Refused, match=reason):
        uploads.check(helpers.pdf_bytes(**options), "form.pdf")


def test_a_scan_of_200_pages_is_refused(settings):
    settings.DOSSIER_MAX_PDF_PAGES = 40
    with pytest.raises(uploads.Refused, match="200 pages"):
        uploads.check(helpers.pdf_bytes(200), "scan.pdf")


def test_a_zip_bomb_is_not_a_document():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.bin", b"\0" * 20_000_000)
    assert len(out.getvalue()) < 100_000
    with pytest.raises(uploads.Refused, match="PDF, JPEG or PNG"):
        uploads.check(out.getvalue(), "documents.pdf")


def test_a_decompression_bomb_image_is_refused_before_it_is_decoded(settings):
    settings.DOSSIER_MAX_IMAGE_PIXELS = 1_000_000
    bomb = helpers.png_bytes(3000, 3000, color=(0, 0, 0))  # 9 Mpx of one colour: a few kilobytes
    assert len(bomb) < 100_000
    with pytest.raises(uploads.Refused, match="too large"):
        uploads.check(bomb, "scan.png")


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF",  # no pages, no trailer
        helpers.pdf_bytes()[:-200],  # cut short
        b"\x89PNG\r\n\x1a\n" + b"\0" * 100,  # a PNG header and nothing else
        b"\xff\xd8\xff\xe0" + b"garbage" * 10,
    ],
)
def test_malformed_files_are_refused(content):
    with pytest.raises(uploads.Refused):
        uploads.check(content, "document")


@pytest.mark.parametrize(
    "name", ["../../etc/passwd.pdf", "dir\\file.pdf", "facture\u202efdp.exe", "a\u2067b.pdf", "nul\x00.pdf"]
)
def test_file_names_with_paths_or_direction_overrides_are_refused(name):
    with pytest.raises(uploads.Refused, match="file name"):
        uploads.check(helpers.pdf_bytes(), name)


def test_a_file_over_the_size_limit_is_refused_without_reading_it_all(settings):
    settings.DOSSIER_MAX_FILE_BYTES = 1000

    class Upload(io.BytesIO):
        size = None

    with pytest.raises(uploads.Refused, match="too large"):
        uploads.read_limited(Upload(b"x" * 5000))
    with pytest.raises(uploads.Refused, match="empty"):
        uploads.read_limited(Upload(b""))
