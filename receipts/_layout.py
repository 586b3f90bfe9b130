"""Common layout of every document: DejaVu Sans (registered once per process), A4, styles,
a header with the authority and the document's title, a footer with the page number and an
optional reference number on every page, and the verification QR code.

reportlab embeds a subset of the TrueType font, so Czech diacritics render in any viewer.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table, TableStyle
from reportlab.platypus.flowables import KeepTogether

from .errors import RenderError

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
PAGE = A4
MARGIN = 18 * mm
#: width inside the frame (platypus frames pad 6 pt on each side)
USABLE = PAGE[0] - 2 * MARGIN - 12
GREY = colors.HexColor("#555555")
RULE = colors.HexColor("#999999")

_lock = threading.Lock()
_registered = False


def register_fonts() -> None:
    """Register DejaVu Sans and DejaVu Sans Bold with reportlab, once per process."""
    global _registered
    if _registered:
        return
    with _lock:
        if _registered:
            return
        try:
            pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / "DejaVuSans.ttf")))
            pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
        except Exception as exc:  # noqa: BLE001 - reportlab raises bare TTFError/OSError
            raise RenderError(
                f"The DejaVu Sans fonts could not be loaded from {FONT_DIR} ({exc}); install "
                "the Debian package fonts-dejavu-core."
            ) from exc
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)
        _registered = True


@dataclass(frozen=True)
class Styles:
    title: ParagraphStyle
    heading: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    label: ParagraphStyle
    mono: ParagraphStyle


def _styles() -> Styles:
    body = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=12.5, alignment=TA_LEFT)
    return Styles(
        title=ParagraphStyle("title", parent=body, fontName=FONT_BOLD, fontSize=16, leading=20),
        heading=ParagraphStyle(
            "heading",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=11,
            leading=14,
            spaceBefore=8,
            spaceAfter=3,
        ),
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5, textColor=GREY),
        label=ParagraphStyle("label", parent=body, textColor=GREY),
        mono=ParagraphStyle("mono", parent=body, fontSize=7.5, leading=9.5),
    )


_styles_cache: Styles | None = None


def styles() -> Styles:
    global _styles_cache
    register_fonts()
    if _styles_cache is None:
        _styles_cache = _styles()
    return _styles_cache


def esc(text: object) -> str:
    """Text for a reportlab Paragraph (which reads a small XML-like markup)."""
    s = str(text)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def para(text: object, style: ParagraphStyle | None = None) -> Paragraph:
    return Paragraph(esc(text), style or styles().body)


def kv_table(rows: Sequence[tuple[str, Any]], label_width: float = 48 * mm) -> Table:
    """Label/value rows; values may be strings or flowables."""
    st = styles()
    data = [
        [Paragraph(esc(label), st.label), v if isinstance(v, Flowable) else para(v)]
        for label, v in rows
    ]
    table = Table(data, colWidths=[label_width, USABLE - label_width])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table


def grid_table(
    header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float]
) -> Table:
    st = styles()
    small_bold = ParagraphStyle("gh", parent=st.small, fontName=FONT_BOLD, textColor=colors.black)
    data: list[list[Any]] = [[Paragraph(esc(h), small_bold) for h in header]]
    for row in rows:
        data.append([c if isinstance(c, Flowable) else Paragraph(esc(c), st.mono) for c in row])
    table = Table(data, colWidths=list(widths), repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


class QrCode(Flowable):
    """A QR code drawn as one filled path (one rectangle per run of dark modules).

    The mask pattern is fixed: searching for the best of eight costs ~6 ms per code and any
    mask decodes the same.
    """

    def __init__(self, data: str, size: float = 32 * mm) -> None:
        super().__init__()
        qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, mask_pattern=2)
        qr.add_data(data)
        qr.make(fit=True)
        self.matrix: list[list[bool]] = qr.get_matrix()
        self.size = size
        self.width = self.height = size

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        return self.size, self.size

    def draw(self) -> None:
        n = len(self.matrix)
        cell = self.size / n
        canv = self.canv
        path = canv.beginPath()
        for r, row in enumerate(self.matrix):
            y = self.size - (r + 1) * cell
            c = 0
            while c < n:
                if row[c]:
                    start = c
                    while c < n and row[c]:
                        c += 1
                    path.rect(start * cell, y, (c - start) * cell, cell)
                else:
                    c += 1
        canv.setFillColor(colors.black)
        canv.drawPath(path, stroke=0, fill=1)


def qr_code(url: str, size: float = 32 * mm) -> QrCode:
    return QrCode(url, size)


def keep(*flowables: Flowable) -> KeepTogether:
    return KeepTogether(list(flowables))


class _NumberedCanvas(Canvas):
    """A canvas that knows the page count when it draws the footers ("strana 1 z 3")."""

    footer_left = ""
    header_right = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._draw_frame(total)
            super().showPage()
        super().save()

    def _draw_frame(self, total: int) -> None:
        width, height = PAGE
        self.setFont(FONT, 7.5)
        self.setFillColor(GREY)
        self.setStrokeColor(RULE)
        self.setLineWidth(0.4)
        self.line(MARGIN, 14 * mm, width - MARGIN, 14 * mm)
        self.drawString(MARGIN, 10 * mm, self.footer_left)
        self.drawRightString(width - MARGIN, 10 * mm, f"strana {self._pageNumber} z {total}")
        if self.header_right:
            self.setFont(FONT_BOLD, 8.5)
            self.setFillColor(colors.black)
            self.drawRightString(width - MARGIN, height - 11 * mm, self.header_right)


def build(story: list[Flowable], *, title: str, footer: str, header: str = "") -> bytes:
    """Lay out ``story`` on A4 pages; ``header`` (e.g. the reference number) goes on every page."""
    register_fonts()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=20 * mm,
        title=title,
        author="",
        subject="",
        creator="podatelna",
        invariant=1,
        # reportlab's initial font is Helvetica (not embedded): PDF/A wants every font embedded
        initialFontName=FONT,
    )
    canvas_cls = type(
        "_DocCanvas", (_NumberedCanvas,), {"footer_left": footer, "header_right": header}
    )
    doc.build(story, canvasmaker=canvas_cls)
    return buf.getvalue()


def rule_line() -> Table:
    t = Table([[""]], colWidths=[USABLE], rowHeights=[3])
    t.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.6, colors.black),
                ("FONTNAME", (0, 0), (-1, -1), FONT),
            ]
        )
    )
    return t
