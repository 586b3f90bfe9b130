"""The receipt ("Potvrzení o přijetí podání") as PDF/A-3b with its XML attached."""

from __future__ import annotations

from datetime import datetime

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table, TableStyle

from . import _layout as L
from ._time import human, human_date
from .model import FileEntry, ReceiptData
from .pdfa import Attachment, to_pdfa

TITLE = "Potvrzení o přijetí podání"
XML_NAME = "potvrzeni.xml"
CHANNEL_NAMES = {
    "portal": "formulářový portál",
    "databox": "datová schránka",
    "cli": "příkazová řádka (podatelna)",
}


def authority_header(name: str, address: str, title: str) -> list[Flowable]:
    st = L.styles()
    return [
        L.para(name, st.heading),
        L.para(address, st.small),
        Spacer(1, 4 * mm),
        L.para(title, st.title),
        L.rule_line(),
        Spacer(1, 3 * mm),
    ]


def sender_text(name: str, contact: str) -> str:
    return f"{name}, {contact}" if name and contact else (name or contact or "—")


def size_text(size: int) -> str:
    s = f"{size:,}".replace(",", "\u00a0")
    return f"{s} B"


def files_table(files: tuple[FileEntry, ...]) -> Flowable:
    if not files:
        return L.para("Podání neobsahovalo žádné soubory.")
    usable = L.USABLE
    rows = [
        [f.name, size_text(f.size), f.media_type, f"{f.sha256[:32]}\n{f.sha256[32:]}"]
        for f in files
    ]
    rows = [[r[0], r[1], r[2], L.para(r[3].replace("\n", " "), L.styles().mono)] for r in rows]
    return L.grid_table(
        ["Soubor", "Velikost", "Typ", "SHA-256"],
        rows,
        [usable * 0.30, usable * 0.13, usable * 0.22, usable * 0.35],
    )


def verdict_list(verdicts: tuple[str, ...]) -> list[Flowable]:
    if not verdicts:
        return [L.para("Podání neobsahovalo elektronický podpis ani pečeť.")]
    return [L.para(f"• {v}") for v in verdicts]


def _confirmation(data: ReceiptData) -> str:
    if not data.confirmation_needed:
        return (
            "Podání je podepsáno uznávaným způsobem nebo došlo z datové schránky odesílatele; "
            "potvrzovat je není třeba."
        )
    assert data.confirmation_deadline is not None
    return (
        "Podání není podepsáno uznávaným elektronickým podpisem. Podle § 37 odst. 4 správního "
        "řádu je třeba je potvrdit nejpozději "
        f"{human_date(data.confirmation_deadline)}, a to vlastnoručně podepsaným opisem "
        "(poštou nebo osobně), podáním s uznávaným podpisem nebo z datové schránky. Jinak se jím "
        "úřad nebude zabývat."
    )


def _verification(data: ReceiptData) -> Table:
    st = L.styles()
    text = [
        L.para("Ověření potvrzení", st.heading),
        L.para(f"Ověřovací kód: {data.verification_code}"),
        L.para(data.verification_url, st.mono),
        L.para(
            "Potvrzení je opatřeno elektronickou pečetí úřadu a kvalifikovaným časovým razítkem; "
            f"jeho obsah je strojově čitelně připojen jako soubor {XML_NAME}.",
            st.small,
        ),
    ]
    usable = L.USABLE
    t = Table([[text, L.qr_code(data.verification_url)]], colWidths=[usable - 36 * mm, 36 * mm])
    t.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("FONTNAME", (0, 0), (-1, -1), L.FONT),
            ]
        )
    )
    return t


def story(data: ReceiptData) -> list[Flowable]:
    st = L.styles()
    out = authority_header(data.authority.name, data.authority.address, TITLE)
    out.append(
        L.kv_table(
            [
                ("Číslo jednací", L.para(data.reference, st.heading)),
                ("Přijato", human(data.received_at)),
                ("Způsob podání", CHANNEL_NAMES.get(data.channel, data.channel)),
                ("Odesílatel", sender_text(data.sender.name, data.sender.contact)),
                ("Formulář", f"{data.form.name} ({data.form.code}, verze {data.form.version})"),
                ("Věc", data.subject or "—"),
                ("Identifikátor potvrzení", data.receipt_id),
            ]
        )
    )
    out += [L.para("Přijaté soubory", st.heading), files_table(data.files)]
    out += [L.para("Elektronické podpisy", st.heading), *verdict_list(data.verdicts)]
    out += [L.para("Potvrzení podání", st.heading), L.para(_confirmation(data))]
    out += [Spacer(1, 4 * mm), L.keep(_verification(data))]
    return out


def render_receipt(data: ReceiptData, *, issued_at: datetime | None = None) -> bytes:
    """Render the unsigned PDF/A-3b receipt (the receipt XML attached as ``potvrzeni.xml``).

    ``issued_at`` (default: the receipt time) is written as the document's creation date, so
    the same data always renders to the same bytes.
    """
    pdf = L.build(
        story(data),
        title=f"{TITLE} {data.reference}",
        footer=f"{data.authority.name} · {TITLE} · č. j. {data.reference}",
    )
    return to_pdfa(
        pdf,
        title=f"{TITLE} {data.reference}",
        created=issued_at or data.received_at,
        attachments=[Attachment(XML_NAME, data.to_xml(), description="Potvrzení o přijetí (XML)")],
    )
