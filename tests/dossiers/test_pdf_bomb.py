"""A PDF decompression bomb hidden in an object stream: the catalogue, the page tree and the page live in
a compressed object stream (PDF 1.5) whose data inflates to hundreds of megabytes. pypdf must inflate it to
read the page tree; the lowered limits (uploads._pdf_limits, a few times DOSSIER_MAX_FILE_BYTES) stop it.
The file is refused as damaged, quickly and without the inflated data ever being held in memory."""

from __future__ import annotations

import time
import tracemalloc
import zlib

import pytest

from guichet.dossiers import uploads

INFLATED = 300 * 1024 * 1024  # what the bomb's object stream inflates to


def _twice_deflated(head: bytes, padding: int) -> bytes:
    """zlib(zlib(head + padding spaces)), built in chunks: the inflated bytes never exist here either."""
    inner = zlib.compressobj(9)
    parts = [inner.compress(head)]
    chunk = b" " * (4 * 1024 * 1024)
    left = padding
    while left > 0:
        parts.append(inner.compress(chunk[: min(left, len(chunk))]))
        left -= len(chunk)
    parts.append(inner.flush())
    return zlib.compress(b"".join(parts), 9)


def object_stream_pdf(padding: int) -> bytes:
    """A one-page PDF whose objects 2-4 (catalogue, pages, page) sit in object stream 1, padded with
    `padding` spaces after the last object, and whose cross-reference table is a stream (object 5)."""
    objects = [
        b"<< /Type /Catalog /Pages 3 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] /Resources << >> >>",
    ]
    offsets, body = [], b""
    for obj in objects:
        offsets.append(len(body))
        body += obj + b"\n"
    index = b" ".join(b"%d %d" % (number, offset) for number, offset in zip((2, 3, 4), offsets, strict=True))
    index += b"\n"
    data = _twice_deflated(index + body, padding)
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    objstm_at = len(out)
    out += (
        b"1 0 obj\n<< /Type /ObjStm /N 3 /First %d /Filter [/FlateDecode /FlateDecode] /Length %d >>\n"
        % (len(index), len(data))
        + b"stream\n"
    )
    out += data + b"\nendstream\nendobj\n"
    xref_at = len(out)
    rows = [(0, 0, 65535), (1, objstm_at, 0), (2, 1, 0), (2, 1, 1), (2, 1, 2), (1, xref_at, 0)]
    table = zlib.compress(
        b"".join(bytes([kind]) + f.to_bytes(4, "big") + g.to_bytes(2, "big") for kind, f, g in rows)
    )
    out += (
        b"5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 2 0 R /Filter /FlateDecode /Length %d >>\nstream\n"
        % len(table)
    )
    out += table + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def test_the_same_pdf_with_a_small_object_stream_is_an_ordinary_one_page_document():
    checked = uploads.check(object_stream_pdf(padding=1000), "scan.pdf")
    assert (checked.content_type, checked.pages) == ("application/pdf", 1)


def test_an_object_stream_bomb_is_refused_fast_and_in_bounded_memory(settings):
    settings.DOSSIER_MAX_FILE_BYTES = 1024 * 1024  # pypdf may then inflate at most 8 MB per stream
    bomb = object_stream_pdf(padding=INFLATED)
    assert len(bomb) < 20_000  # a few kilobytes on the wire
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(uploads.Refused, match="damaged"):
            uploads.check(bomb, "scan.pdf")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.monotonic() - started
    # pypdf's own default would let one stream grow to 75 MB; the lowered limit keeps it near 8 MB.
    assert peak < 40 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"
    assert elapsed < 10, f"{elapsed:.1f} s"
