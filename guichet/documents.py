"""The PDFs Guichet prints (proofs, court files, convocations, letters): one way to make them.

Every PDF is PDF/UA-1 (WeasyPrint's `pdf/ua-1` variant): tagged, so that a screen reader reads headings,
paragraphs, lists and tables in order and says each image's text alternative, with the document's language
and title (from `<html lang>` and `<title>`). The templates give both, and an `alt` to every image.

Nothing is fetched while rendering but inline `data:` URIs (QR codes): a PDF never reads a local file or the
network because of what its HTML says. Relative links resolve against SITE_URL, so that a link in a PDF opens
the site.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import segno
from django.conf import settings
from weasyprint import HTML
from weasyprint.urls import URLFetcher

PDF_OPTIONS = {"pdf_variant": "pdf/ua-1"}


def _fetcher():
    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False)


def _html(html: str):
    return HTML(string=html, base_url=settings.SITE_URL, url_fetcher=_fetcher())


def write_pdf(html: str) -> bytes:
    """One HTML document as a tagged PDF."""
    return _html(html).write_pdf(**PDF_OPTIONS)


def write_pdf_batch(htmls: Iterable[str], progress: Callable[[int], None] | None = None) -> bytes:
    """Several HTML documents as one tagged PDF, each starting on a new page (a day's print run).

    `progress(n)` is called after the n-th document is laid out (most of the time goes there)."""
    documents = []
    for html in htmls:
        documents.append(_html(html).render(**PDF_OPTIONS))
        if progress is not None:
            progress(len(documents))
    if not documents:
        return b""
    pages = [page for document in documents for page in document.pages]
    return documents[0].copy(pages).write_pdf(**PDF_OPTIONS)


def qr_data_uri(data: str) -> str:
    """A QR code (error correction M) as an SVG data URI: sharp at any print size, nothing to fetch."""
    return segno.make(data, error="m").svg_data_uri(border=2, scale=4)
