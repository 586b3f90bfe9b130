"""Exports: a person's personal-data export and the filing journal, as PDF/A-3b.

The personal export carries its JSON (``vypis.json``) and XML (``vypis.xml``) as associated
files; the journal carries its XML (``denik.xml``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from . import _layout as L
from ._json import jsonable
from ._time import human, human_date
from .model import JournalExport, PersonalExport
from .pdfa import Attachment, to_pdfa
from .render_receipt import CHANNEL_NAMES, authority_header, sender_text

PERSONAL_TITLE = "Výpis osobních údajů"
JOURNAL_TITLE = "Podací deník"
SECTIONS = (
    ("submissions", "Podání"),
    ("filings", "Evidovaná podání"),
    ("verdicts", "Ověření elektronických podpisů"),
    ("audit_entries", "Záznamy o úkonech (auditní záznamy)"),
)


def flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested mappings and lists as ``a.b.1.c`` = value rows."""
    value = jsonable(value)
    if isinstance(value, Mapping):
        rows: list[tuple[str, str]] = []
        for k, v in value.items():
            rows += flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return rows
    if isinstance(value, list):
        rows = []
        for i, v in enumerate(value, start=1):
            rows += flatten(v, f"{prefix}.{i}" if prefix else str(i))
        return rows or [(prefix, "—")]
    if value is None:
        return [(prefix, "—")]
    if isinstance(value, bool):
        return [(prefix, "ano" if value else "ne")]
    return [(prefix, str(value))]


def personal_story(data: PersonalExport) -> list[Flowable]:
    st = L.styles()
    a = data.authority
    out = authority_header(a.name if a else "", a.address if a else "", PERSONAL_TITLE)
    out.append(
        L.kv_table(
            [
                ("Osoba", sender_text(data.sender.name, data.sender.contact)),
                ("Vyhotoveno", human(data.generated_at)),
            ]
        )
    )
    out.append(
        L.para(
            "Výpis obsahuje všechny údaje, které systém podatelny o této osobě vede. Stejný obsah "
            "je strojově čitelně připojen jako soubory vypis.json a vypis.xml.",
            st.small,
        )
    )
    for attr, heading in SECTIONS:
        records = getattr(data, attr)
        out.append(L.para(f"{heading} ({len(records)})", st.heading))
        if not records:
            out.append(L.para("Žádné záznamy."))
        for record in records:
            out += [L.kv_table(flatten(record), label_width=55 * mm), Spacer(1, 2 * mm)]
    return out


def render_personal_export(data: PersonalExport, *, issued_at: datetime | None = None) -> bytes:
    """Render the unsigned PDF/A-3b personal-data export with its JSON and XML attached."""
    title = f"{PERSONAL_TITLE} – {data.sender.name or data.sender.contact}"
    footer = f"{data.authority.name if data.authority else ''} · {PERSONAL_TITLE}"
    pdf = L.build(personal_story(data), title=title, footer=footer)
    return to_pdfa(
        pdf,
        title=title,
        created=issued_at or data.generated_at,
        attachments=[
            Attachment(
                "vypis.json", data.to_json(), mime_type="application/json", description="JSON"
            ),
            Attachment("vypis.xml", data.to_xml(), description="XML"),
        ],
    )


def journal_story(data: JournalExport) -> list[Flowable]:
    out = authority_header(data.authority.name, data.authority.address, JOURNAL_TITLE)
    out.append(
        L.kv_table(
            [
                ("Období", f"{human_date(data.date_from)} – {human_date(data.date_to)}"),
                ("Počet záznamů", str(len(data.entries))),
                ("Vyhotoveno", human(data.generated_at)),
            ]
        )
    )
    out.append(Spacer(1, 3 * mm))
    rows = []
    for e in data.entries:
        confirmation = e.confirmation_state or ""
        if e.confirmation_deadline is not None:
            confirmation += f" do {human_date(e.confirmation_deadline)}"
        files = "; ".join(f.name for f in e.files)
        rows.append(
            [
                e.reference,
                human(e.received_at).split(" SE")[0],
                CHANNEL_NAMES.get(e.channel, e.channel),
                sender_text(e.sender.name, e.sender.contact),
                f"{e.form.code} {e.form.version}",
                f"{e.subject}\n{files}" if files else e.subject,
                confirmation,
                e.status,
            ]
        )
    w = L.USABLE
    widths = [0.14, 0.11, 0.09, 0.16, 0.10, 0.22, 0.10, 0.08]
    out.append(
        L.grid_table(
            [
                "Č. j.",
                "Přijato",
                "Kanál",
                "Odesílatel",
                "Formulář",
                "Věc, soubory",
                "Potvrzení",
                "Stav",
            ],
            rows,
            [w * x for x in widths],
        )
        if rows
        else L.para("V tomto období nebylo nic podáno.")
    )
    return out


def render_journal(data: JournalExport, *, issued_at: datetime | None = None) -> bytes:
    """Render the unsigned PDF/A-3b journal for a date range with its XML attached."""
    title = f"{JOURNAL_TITLE} {data.date_from.isoformat()} – {data.date_to.isoformat()}"
    pdf = L.build(journal_story(data), title=title, footer=f"{data.authority.name} · {title}")
    return to_pdfa(
        pdf,
        title=title,
        created=issued_at or data.generated_at,
        attachments=[Attachment("denik.xml", data.to_xml(), description="Podací deník (XML)")],
    )
