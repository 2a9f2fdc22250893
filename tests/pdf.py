"""Reading the PDFs Guichet prints, in Python only (pdfminer.six: no poppler on the machine needed).

What a test asks of a PDF: its text (pages separated by form feeds, like pdftotext), its number of pages,
its metadata (title, language, tagged or not), the tags of its structure tree in reading order (what a
screen reader follows), and the QR codes it shows, decoded by zxing-cpp from the drawing itself: the page's
stroked and filled shapes and its pictures are painted onto an image, which the decoder reads as a phone
would read the paper.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import zxingcpp
from pdfminer.converter import PDFPageAggregator
from pdfminer.high_level import extract_text
from pdfminer.layout import LAParams, LTCurve, LTImage, LTLayoutContainer, LTPage
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import resolve1
from pdfminer.psparser import PSLiteral
from PIL import Image, ImageDraw

PIXELS_PER_POINT = 3
MAX_FILLED = 30  # points: a QR module drawn as a filled square is far smaller


def _document(data: bytes) -> PDFDocument:
    assert data.startswith(b"%PDF-"), data[:20]
    return PDFDocument(PDFParser(io.BytesIO(data)))


def text(data: bytes) -> str:
    """The text of every page, pages separated by "\\f"."""
    assert data.startswith(b"%PDF-"), data[:20]
    return extract_text(io.BytesIO(data))


def page_count(data: bytes) -> int:
    return resolve1(_document(data).catalog["Pages"])["Count"]


def _string(value) -> str:
    value = resolve1(value)
    if isinstance(value, bytes):
        if value.startswith(b"\xfe\xff"):
            return value[2:].decode("utf-16-be")
        return value.decode("latin-1")
    return str(value)


def info(data: bytes) -> dict[str, str]:
    """Title, Lang and Tagged ("yes"/"no"), as pdfinfo would say them."""
    document = _document(data)
    catalog = document.catalog
    metadata = resolve1(document.info[0]) if document.info else {}
    mark = resolve1(catalog.get("MarkInfo")) or {}
    return {
        "Title": _string(metadata.get("Title", b"")),
        "Lang": _string(catalog.get("Lang", b"")),
        "Tagged": "yes" if resolve1(mark.get("Marked")) else "no",
        "Pages": str(resolve1(catalog["Pages"])["Count"]),
    }


def _name(value) -> str:
    value = resolve1(value)
    return value.name if isinstance(value, PSLiteral) else str(value)


def _elements(node) -> Iterator[dict]:
    node = resolve1(node)
    if isinstance(node, list):
        for child in node:
            yield from _elements(child)
    elif isinstance(node, dict) and "S" in node:
        yield node
        yield from _elements(node.get("K", []))


def structure(data: bytes) -> list[str]:
    """The tags of the structure tree in reading order (Document, H1, P, Figure...)."""
    root = resolve1(_document(data).catalog.get("StructTreeRoot"))
    if not root:
        return []
    return [_name(element["S"]) for element in _elements(root.get("K", []))]


def figures(data: bytes) -> list[dict[str, str]]:
    """Each Figure of the structure tree with its text alternative (what a screen reader says)."""
    root = resolve1(_document(data).catalog.get("StructTreeRoot"))
    found = []
    for element in _elements(root.get("K", []) if root else []):
        if _name(element["S"]) == "Figure":
            found.append({"alt": _string(element.get("Alt", b""))})
    return found


def _picture(item: LTImage) -> Image.Image | None:
    stream = item.stream
    declared = resolve1(stream.get("Filter"))
    declared = declared if isinstance(declared, list) else [declared] if declared else []
    filters = [_name(name) for name in declared]
    if "DCTDecode" in filters:
        return Image.open(io.BytesIO(stream.get_rawdata()))
    width, height = resolve1(stream["Width"]), resolve1(stream["Height"])
    bits = resolve1(stream.get("BitsPerComponent", 8))
    space = resolve1(stream.get("ColorSpace"))
    raw = stream.get_data()
    if bits == 1:
        return Image.frombytes("1", (width, height), raw)
    if isinstance(space, list) and _name(space[0]) == "Indexed":
        base, palette = resolve1(space[1]), resolve1(space[3])
        palette = palette.get_data() if hasattr(palette, "get_data") else palette
        picture = Image.frombytes("P", (width, height), raw)
        if _name(base) == "DeviceGray":
            palette = b"".join(bytes([value] * 3) for value in palette)
        picture.putpalette(palette)
        return picture.convert("L")
    mode = {"DeviceGray": "L", "DeviceRGB": "RGB", "DeviceCMYK": "CMYK"}.get(_name(space), "RGB")
    return Image.frombytes(mode, (width, height), raw)


def _dark(color) -> bool:
    if color is None:
        return True
    values = list(color) if isinstance(color, list | tuple) else [color]
    if len(values) == 4:  # CMYK: dark when much black or ink
        return values[3] > 0.5 or sum(values[:3]) > 1.5
    return sum(values) / max(len(values), 1) < 0.5


def _paint(draw: ImageDraw.ImageDraw, canvas: Image.Image, container, height: float) -> None:
    def xy(x: float, y: float) -> tuple[float, float]:
        return x * PIXELS_PER_POINT, (height - y) * PIXELS_PER_POINT

    for item in container:
        if isinstance(item, LTImage):
            picture = _picture(item)
            if picture is not None:
                x0, y0 = xy(item.x0, item.y1)
                x1, y1 = xy(item.x1, item.y0)
                size = (max(1, round(x1 - x0)), max(1, round(y1 - y0)))
                canvas.paste(picture.convert("L").resize(size, Image.NEAREST), (round(x0), round(y0)))
        elif isinstance(item, LTCurve):
            points = [xy(x, y) for x, y in item.pts]
            # Small dark shapes only: frames and box backgrounds are drawn as large filled paths (a border is
            # two rectangles filled even-odd, which pdfminer gives as two filled ones): they would hide it.
            small = item.width < MAX_FILLED and item.height < MAX_FILLED
            if item.fill and small and _dark(item.non_stroking_color) and len(points) > 2:
                draw.polygon(points, fill=0)
            if item.stroke and _dark(item.stroking_color) and len(points) > 1:
                width = max(1, round((item.linewidth or 1) * PIXELS_PER_POINT))
                draw.line(points, fill=0, width=width)
        elif isinstance(item, LTLayoutContainer):
            _paint(draw, canvas, item, height)


def _layouts(data: bytes) -> Iterator[LTPage]:
    resources = PDFResourceManager()
    device = PDFPageAggregator(resources, laparams=LAParams())
    interpreter = PDFPageInterpreter(resources, device)
    for page in PDFPage.get_pages(io.BytesIO(data)):
        interpreter.process_page(page)
        yield device.get_result()


def _pictures_of_pages(data: bytes) -> Iterator[Image.Image]:
    for page in _layouts(data):
        size = (round(page.width * PIXELS_PER_POINT), round(page.height * PIXELS_PER_POINT))
        canvas = Image.new("L", size, 255)
        _paint(ImageDraw.Draw(canvas), canvas, page, page.height)
        yield canvas


def qr_codes(data: bytes) -> list[str]:
    """What the QR codes of the document say, page after page."""
    found = []
    for picture in _pictures_of_pages(data):
        results = zxingcpp.read_barcodes(picture, formats=zxingcpp.BarcodeFormat.QRCode)
        corners = sorted(results, key=lambda found: (found.position.top_left.y, found.position.top_left.x))
        found += [result.text for result in corners]
    return found
