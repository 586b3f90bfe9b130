"""The rejection notice ("Oznámení o odmítnutí podání") as PDF/A-3b with its XML attached."""

from __future__ import annotations

from datetime import datetime

from reportlab.platypus import Flowable

from . import _layout as L
from ._time import human
from .model import RejectionData
from .pdfa import Attachment, to_pdfa
from .render_receipt import authority_header, sender_text

TITLE = "Oznámení o odmítnutí podání"
XML_NAME = "odmitnuti.xml"


def story(data: RejectionData) -> list[Flowable]:
    st = L.styles()
    out = authority_header(data.authority.name, data.authority.address, TITLE)
    rows: list[tuple[str, object]] = [
        ("Identifikátor podání", data.submission_id),
        ("Přijato", human(data.received_at)),
        ("Odesílatel", sender_text(data.sender.name, data.sender.contact)),
    ]
    if data.form is not None:
        rows.append(("Formulář", f"{data.form.name} ({data.form.code}, verze {data.form.version})"))
    out.append(L.kv_table(rows))
    out.append(L.para("Důvody odmítnutí", st.heading))
    table_rows = [
        [
            str(i),
            L.para(r.message),
            "" if r.line is None else str(r.line),
            "" if r.column is None else str(r.column),
            r.path or "",
        ]
        for i, r in enumerate(data.reasons, start=1)
    ]
    w = L.USABLE
    out.append(
        L.grid_table(
            ["Č.", "Důvod", "Řádek", "Sloupec", "Místo v dokumentu"],
            table_rows,
            [w * 0.05, w * 0.55, w * 0.08, w * 0.09, w * 0.23],
        )
    )
    out.append(L.para("Co dál", st.heading))
    out.append(
        L.para(
            "Podání nebylo zaevidováno a nebylo mu přiděleno číslo jednací. Opravte prosím "
            "uvedené chyby a podejte je znovu. Strojově čitelný seznam chyb je připojen jako "
            f"soubor {XML_NAME}."
        )
    )
    return out


def render_rejection(data: RejectionData, *, issued_at: datetime | None = None) -> bytes:
    """Render the unsigned PDF/A-3b rejection notice (its XML attached as ``odmitnuti.xml``)."""
    title = f"{TITLE} {data.submission_id}"
    pdf = L.build(
        story(data), title=title, footer=f"{data.authority.name} · {TITLE} · {data.submission_id}"
    )
    return to_pdfa(
        pdf,
        title=title,
        created=issued_at or data.received_at,
        attachments=[Attachment(XML_NAME, data.to_xml(), description="Důvody odmítnutí (XML)")],
    )
