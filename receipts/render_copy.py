"""The copy of a filing ("opis podání"): the submitted form, readable, for hand-signing.

The form XML is untrusted input (it was validated upstream, but is parsed again here): it is
read with a hardened lxml parser (no DTD, no entities, no network, no huge trees), and at most
:data:`MAX_ROWS` elements are rendered, indented to at most :data:`MAX_INDENT` levels.
"""

from __future__ import annotations

import re
from datetime import datetime

from lxml import etree
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from . import _layout as L
from ._time import human
from .errors import RenderError
from .model import CopyData
from .pdfa import Attachment, to_pdfa
from .render_receipt import authority_header

TITLE = "Opis podání"
XML_NAME = "opis.xml"
FORM_NAME = "formular.xml"
MAX_ROWS = 5000
MAX_INDENT = 8
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def label(tag: str) -> str:
    """``cisloPopisne`` -> ``Cislo popisne``; ``datum-narozeni`` -> ``Datum narozeni``."""
    local = etree.QName(tag).localname if tag.startswith("{") else tag
    words = _CAMEL.sub(" ", local).replace("_", " ").replace("-", " ").split()
    text = " ".join(words).lower()
    return text[:1].upper() + text[1:]


def _parse(form_xml: bytes) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        return etree.fromstring(form_xml, parser)
    except etree.XMLSyntaxError as exc:
        raise RenderError(f"The form XML of the copy cannot be read: {exc}.") from exc


def form_rows(form_xml: bytes) -> list[tuple[int, str, str | None]]:
    """(depth, label, value or None for a group) for each element, in document order."""
    root = _parse(form_xml)
    rows: list[tuple[int, str, str | None]] = []

    def walk(el: etree._Element, depth: int) -> None:
        if len(rows) >= MAX_ROWS:
            return
        children = [c for c in el if isinstance(c.tag, str)]
        attrs = [(label(k), v) for k, v in el.attrib.items() if not k.startswith("{")]
        if children or attrs:
            rows.append((depth, label(el.tag), None))
            for name, value in attrs:
                rows.append((depth + 1, name, value))
            for child in children:
                walk(child, depth + 1)
        else:
            rows.append((depth, label(el.tag), (el.text or "").strip()))

    walk(root, 0)
    return rows


def _form_table(rows: list[tuple[int, str, str | None]]) -> Table:
    st = L.styles()
    group = ParagraphStyle("group", parent=st.body, fontName=L.FONT_BOLD)
    data = []
    for depth, name, value in rows:
        indent = min(depth, MAX_INDENT) * 4 * mm
        lab = ParagraphStyle(
            f"l{depth}", parent=group if value is None else st.label, leftIndent=indent
        )
        text = "" if value is None else L.esc(value).replace("\n", "<br/>")
        data.append([Paragraph(L.esc(name), lab), Paragraph(text, st.body)])
    table = Table(data, colWidths=[70 * mm, L.USABLE - 70 * mm], repeatRows=0)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONTNAME", (0, 0), (-1, -1), L.FONT),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, L.RULE),
            ]
        )
    )
    return table


def story(data: CopyData) -> list[Flowable]:
    st = L.styles()
    out = authority_header(data.authority.name, data.authority.address, TITLE)
    out.append(
        L.kv_table(
            [
                ("Číslo jednací", L.para(data.reference, st.heading)),
                ("Přijato", human(data.received_at)),
                ("Formulář", data.form_name),
            ]
        )
    )
    out += [L.para("Obsah podání", st.heading), _form_table(form_rows(data.form_xml))]
    out += [
        Spacer(1, 12 * mm),
        L.keep(
            L.para(
                "Potvrzuji, že tento opis odpovídá podání, které jsem učinil(a) elektronicky, "
                f"a potvrzuji je (č. j. {data.reference})."
            ),
            Spacer(1, 10 * mm),
            L.para("V ................................................ dne ....................."),
            Spacer(1, 10 * mm),
            L.para("Podpis: ................................................................"),
        ),
    ]
    return out


def render_copy(data: CopyData, *, issued_at: datetime | None = None) -> bytes:
    """Render the unsigned PDF/A-3b copy; the reference number is printed on every page.

    Attached: ``opis.xml`` (the copy's XML, ``/Data``) and ``formular.xml`` (the form as
    submitted, ``/Source``).
    """
    title = f"{TITLE} {data.reference}"
    pdf = L.build(
        story(data),
        title=title,
        footer=f"{data.authority.name} · {TITLE}",
        header=f"č. j. {data.reference}",
    )
    return to_pdfa(
        pdf,
        title=title,
        created=issued_at or data.received_at,
        attachments=[
            Attachment(XML_NAME, data.to_xml(), description="Opis podání (XML)"),
            Attachment(
                FORM_NAME, data.form_xml, relationship="Source", description="Podaný formulář"
            ),
        ],
    )
