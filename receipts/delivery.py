"""The delivery receipt of a data-box message ("doručenka") and its delivery information XML.

The XML (``DeliveryInfo``, valid against ``schemas/xsd/delivery-info-1.0.xsd``) carries the
envelope, the message hash over the canonical envelope, the RFC 3161 timestamp token over that
hash, the times of receipt and delivery, the message's events and the reference number. The
PDF/A-3b shows the same in Czech and carries the XML as an associated file; the caller seals it.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from . import _layout as L
from ._time import human, iso
from ._xml import _authority, _bytes, _el, _root
from .model import Authority, _aware
from .pdfa import Attachment, to_pdfa
from .render_receipt import authority_header, size_text

TITLE = "Doručenka datové zprávy"
XML_NAME = "doruceni.xml"
SENDER_TYPES_CS = {
    "public-authority": "orgán veřejné moci",
    "legal-person": "právnická osoba",
    "business-person": "podnikající fyzická osoba",
    "natural-person": "fyzická osoba",
}
STATES_CS = {
    "received": "přijata",
    "timestamped": "opatřena časovým razítkem",
    "delivered": "dodána (zaevidována)",
    "rejected": "odmítnuta",
}
ROLES_CS = {"main": "písemnost", "enclosure": "příloha", "signature": "podpis", "meta": "metadata"}


@dataclass(frozen=True)
class DeliveryEvent:
    at: datetime
    state: str
    note: str = ""


@dataclass(frozen=True)
class DeliveryData:
    """What the delivery receipt says. ``envelope`` is ``intake.databox.Envelope.to_dict()``
    with the recipient's reference number already written back."""

    id: str
    authority: Authority
    wire_form: str
    envelope: dict[str, Any]
    message_sha256: str
    timestamp_token: bytes = field(repr=False)
    timestamp_time: datetime
    received_at: datetime
    delivered_at: datetime
    reference: str
    events: tuple[DeliveryEvent, ...]

    def __post_init__(self) -> None:
        for what in ("timestamp_time", "received_at", "delivered_at"):
            _aware(getattr(self, what), f"delivery receipt's {what}")
        object.__setattr__(
            self,
            "events",
            tuple(e if isinstance(e, DeliveryEvent) else DeliveryEvent(*e) for e in self.events),
        )

    def to_xml(self) -> bytes:
        return delivery_info_xml(self)


def _party_ref(parent: Any, tag: str, ref: dict[str, Any] | None) -> None:
    el = _el(parent, tag)
    ref = ref or {}
    if ref.get("reference_number"):
        _el(el, "ReferenceNumber", ref["reference_number"])
    if ref.get("file_mark"):
        _el(el, "FileMark", ref["file_mark"])


def delivery_info_xml(d: DeliveryData) -> bytes:
    env = d.envelope
    root = _root("DeliveryInfo")
    _authority(root, d.authority)
    _el(root, "Id", d.id)
    _el(root, "WireForm", d.wire_form)
    e = _el(root, "Envelope")
    _el(e, "MessageId", env["message_id"])
    s = _el(e, "Sender")
    for tag, key in (
        ("BoxId", "box_id"),
        ("Type", "type"),
        ("Name", "name"),
        ("Address", "address"),
    ):
        _el(s, tag, env["sender"][key])
    r = _el(e, "Recipient")
    _el(r, "BoxId", env["recipient"]["box_id"])
    if env["recipient"].get("name"):
        _el(r, "Name", env["recipient"]["name"])
    _el(e, "Subject", env["subject"])
    _party_ref(e, "SenderReference", env.get("sender_reference"))
    _party_ref(e, "RecipientReference", env.get("recipient_reference"))
    if env.get("to_hands"):
        _el(e, "ToHands", env["to_hands"])
    _el(e, "PersonalDelivery", "true" if env.get("personal_delivery") else "false")
    if env.get("legal_title"):
        lt = _el(e, "LegalTitle")
        for tag in ("Law", "Year", "Section", "Paragraph", "Point"):
            if tag.lower() in env["legal_title"]:
                _el(lt, tag, env["legal_title"][tag.lower()])
    files = _el(e, "Files")
    for f in env["files"]:
        fe = _el(files, "File")
        fe.set("role", f["role"])
        _el(fe, "Name", f["name"])
        _el(fe, "Size", int(f["size"]))
        _el(fe, "MediaType", f.get("media_type") or f["declared_media_type"])
        _el(fe, "Sha256", f["sha256"])
    h = _el(root, "MessageHash", d.message_sha256)
    h.set("algorithm", "SHA-256")
    h.set("over", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315")
    ts = _el(root, "Timestamp")
    _el(ts, "Time", iso(d.timestamp_time))
    _el(ts, "Token", base64.b64encode(d.timestamp_token).decode("ascii"))
    _el(root, "ReceivedAt", iso(d.received_at))
    _el(root, "DeliveredAt", iso(d.delivered_at))
    _el(root, "ReferenceNumber", d.reference)
    events = _el(root, "Events")
    for ev in d.events:
        ee = _el(events, "Event")
        _el(ee, "At", iso(ev.at))
        _el(ee, "State", ev.state)
        _el(ee, "Note", ev.note)
    return _bytes(root)


def _story(d: DeliveryData) -> list[Flowable]:
    st = L.styles()
    env = d.envelope
    sender = env["sender"]
    sref = env.get("sender_reference") or {}
    out = authority_header(d.authority.name, d.authority.address, TITLE)
    out.append(
        L.kv_table(
            [
                ("Číslo jednací", L.para(d.reference, st.heading)),
                ("ID zprávy", env["message_id"]),
                (
                    "Odesílatel",
                    f"{sender['name']}, {sender['address']} (datová schránka {sender['box_id']}, "
                    f"{SENDER_TYPES_CS.get(sender['type'], sender['type'])})",
                ),
                ("Adresát", f"datová schránka {env['recipient']['box_id']}"),
                ("Věc", env["subject"]),
                ("Č. j. odesílatele", sref.get("reference_number") or "—"),
                ("Spis. zn. odesílatele", sref.get("file_mark") or "—"),
                ("K rukám", env.get("to_hands") or "—"),
                ("Do vlastních rukou", "ano" if env.get("personal_delivery") else "ne"),
                ("Přijato", human(d.received_at)),
                ("Časové razítko", human(d.timestamp_time)),
                ("Dodáno", human(d.delivered_at)),
                ("Podoba zprávy", "podepsaný kontejner CMS" if d.wire_form == "cms" else "XML"),
            ]
        )
    )
    out.append(L.para("Otisk zprávy (SHA-256 kanonické obálky)", st.heading))
    out.append(L.para(d.message_sha256, st.mono))
    out.append(L.para("Soubory zprávy", st.heading))
    rows = [
        [
            f["name"],
            ROLES_CS.get(f["role"], f["role"]),
            size_text(int(f["size"])),
            L.para(f["sha256"], st.mono),
        ]
        for f in env["files"]
    ]
    w = L.USABLE
    out.append(
        L.grid_table(
            ["Soubor", "Druh", "Velikost", "SHA-256"], rows, [w * 0.3, w * 0.13, w * 0.14, w * 0.43]
        )
    )
    out.append(L.para("Události", st.heading))
    out.append(
        L.grid_table(
            ["Čas", "Stav", "Poznámka"],
            [
                [human(e.at), STATES_CS.get(e.state, e.state), L.para(note_cs(e.note), st.small)]
                for e in d.events
            ],
            [w * 0.35, w * 0.25, w * 0.4],
        )
    )
    out.append(Spacer(1, 4 * mm))
    out.append(
        L.para(
            "Zpráva byla dodána z datové schránky odesílatele, a proto se považuje za podepsanou "
            "(§ 18 odst. 2 zákona č. 300/2008 Sb.). Doručenka je opatřena elektronickou pečetí "
            f"úřadu; strojově čitelné údaje o doručení jsou připojeny jako soubor {XML_NAME}.",
            st.small,
        )
    )
    return out


def render_delivery_receipt(d: DeliveryData, *, xml: bytes | None = None) -> bytes:
    """The unsigned PDF/A-3b delivery receipt, ``xml`` (default: :meth:`DeliveryData.to_xml`)
    attached as ``doruceni.xml``."""
    title = f"{TITLE} {d.envelope['message_id']}"
    pdf = L.build(
        _story(d), title=title, footer=f"{d.authority.name} · {TITLE} · č. j. {d.reference}"
    )
    return to_pdfa(
        pdf,
        title=title,
        created=d.delivered_at,
        attachments=[
            Attachment(XML_NAME, xml or d.to_xml(), description="Informace o doručení (XML)")
        ],
    )


def delivery_receipt_key(message_pk: str, received_at: datetime) -> str:
    from .keys import _slug, _year

    return f"databox/{_year(received_at)}/{_slug(message_pk)}-dorucenka.pdf"


def delivery_info_key(message_pk: str, received_at: datetime) -> str:
    from .keys import _slug, _year

    return f"databox/{_year(received_at)}/{_slug(message_pk)}-doruceni.xml"


# The events' notes are recorded in English (the API's language, kept as written in the XML);
# the Czech receipt words the ones the system writes.
_NOTES_CS = (
    (re.compile(r"(xml|cms) from box (\S+), message (\S+)"), "{0} ze schránky {1}, zpráva {2}"),
    (
        re.compile(r"RFC 3161 token over the message hash"),
        "časové razítko RFC 3161 nad hashem zprávy",
    ),
    (re.compile(r"registered as (\S+)"), "zaevidováno pod číslem jednacím {0}"),
)
_WIRE_CS = {"xml": "obálka XML", "cms": "podepsaný kontejner CMS"}


def note_cs(note: str) -> str:
    """An event's note in Czech (a note the system does not write is kept as it is)."""
    for pattern, cs in _NOTES_CS:
        m = pattern.fullmatch(note)
        if m is not None:
            groups = list(m.groups())
            if groups and groups[0] in _WIRE_CS and "ze schránky" in cs:
                groups[0] = _WIRE_CS[groups[0]]
            return cs.format(*groups)
    return note
