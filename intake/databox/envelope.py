"""The data-box envelope: hardened parsing, validation against its XSD, the canonical hash.

Threat model: the envelope comes from a sending system we authenticated, but its bytes are
still untrusted (a gateway forwards what anyone sent). The defences, stricter than for forms
because an envelope carries up to tens of megabytes of base64 in single text nodes (which is
why libxml2's ``huge_tree`` must be on here, unlike :func:`validators.parse_untrusted`):

* a byte limit is checked before parsing (the caller streams the body under that limit);
* the envelope must be UTF-8 (declared or not); any ``<!DOCTYPE`` or ``<!ENTITY`` in the bytes
  is refused before libxml2 sees them, entities are never resolved, DTDs never loaded, the
  network is off;
* the document must then be valid against ``schemas/xsd/databox-envelope-1.0.xsd``: no
  element or attribute the schema does not name, bounded text lengths, base64 content;
* the message hash is SHA-256 over the envelope's Canonical XML 1.0 (without comments), so it
  does not depend on the encoding declaration, attribute quoting or comments.

Not guaranteed: the declared media types are the sender's claims (see
:mod:`intake.databox.checks`, which judges files by content), and nothing here says who sent it
(see :mod:`intake.databox.container` and the API tokens).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from lxml import etree

import schemas
from intake.databox.errors import EnvelopeInvalid

NS = "urn:cz:podatelna:databox:envelope:1"
XSD_FILE = "databox-envelope-1.0.xsd"
SENDER_TYPES = ("public-authority", "legal-person", "business-person", "natural-person")
ROLES = ("main", "enclosure", "signature", "meta")
_MAX_SCHEMA_ERRORS = 20
_DECL = re.compile(rb"\A<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_lock = threading.Lock()


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


@dataclass(frozen=True)
class EnvelopeFile:
    name: str
    declared_media_type: str
    role: str
    content: bytes = field(repr=False)
    signs: str | None = None

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "declared_media_type": self.declared_media_type,
            "role": self.role,
            "signs": self.signs,
            "size": self.size,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class Reference:
    """A party's reference number (číslo jednací) and file mark (spisová značka)."""

    reference_number: str | None = None
    file_mark: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"reference_number": self.reference_number, "file_mark": self.file_mark}


@dataclass(frozen=True)
class Envelope:
    version: str
    message_id: str
    sender_box: str
    sender_type: str
    sender_name: str
    sender_address: str
    recipient_box: str
    recipient_name: str | None
    subject: str
    sender_reference: Reference
    recipient_reference: Reference
    to_hands: str | None
    personal_delivery: bool
    legal_title: dict[str, str]
    files: tuple[EnvelopeFile, ...]
    #: SHA-256 (hex) over the canonical envelope (C14N 1.0 without comments)
    sha256: str
    #: the canonical envelope itself (what :attr:`sha256` covers)
    canonical: bytes = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Every field but the files' contents (JSON-serialisable)."""
        return {
            "version": self.version,
            "message_id": self.message_id,
            "sender": {
                "box_id": self.sender_box,
                "type": self.sender_type,
                "name": self.sender_name,
                "address": self.sender_address,
            },
            "recipient": {"box_id": self.recipient_box, "name": self.recipient_name},
            "subject": self.subject,
            "sender_reference": self.sender_reference.to_dict(),
            "recipient_reference": self.recipient_reference.to_dict(),
            "to_hands": self.to_hands,
            "personal_delivery": self.personal_delivery,
            "legal_title": dict(self.legal_title),
            "files": [f.to_dict() for f in self.files],
            "sha256": self.sha256,
        }


@cache
def _schema() -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(schemas.schema_path(XSD_FILE)), parser))


def schema_errors(tree: etree._ElementTree) -> list[dict[str, Any]]:
    """Errors of ``tree`` against the envelope XSD (empty when valid)."""
    with _lock:  # an lxml XMLSchema is not safe to share between threads
        schema = _schema()
        if schema.validate(tree):
            return []
        entries = list(schema.error_log)[:_MAX_SCHEMA_ERRORS]
    return [
        {
            "code": "schema_invalid",
            "message": e.message.replace("{" + NS + "}", ""),
            "line": e.line,
            "column": e.column,
            "path": e.path,
        }
        for e in entries
    ]


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=True,  # base64 text nodes beyond libxml2's 10 MB default
        collect_ids=False,
        remove_comments=True,
        remove_pis=True,
    )


def _check_bytes(data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise EnvelopeInvalid(
            f"The envelope has {len(data):,} bytes, more than the limit of {max_bytes:,}."
        )
    head = data[:3]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or data[:2] in (b"<\x00", b"\x00<"):
        raise EnvelopeInvalid("The envelope must be encoded in UTF-8, not UTF-16 or UTF-32.")
    body = data[3:] if head == b"\xef\xbb\xbf" else data
    declared = _DECL.match(body.lstrip())
    if declared and declared.group(1).upper() not in (b"UTF-8", b"UTF8"):
        raise EnvelopeInvalid(
            f"The envelope declares the encoding {declared.group(1).decode()}; "
            "envelopes must be UTF-8."
        )
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise EnvelopeInvalid(
            "The envelope contains a document type or entity declaration; DTDs are not "
            "accepted in data-box messages."
        )


def parse_envelope(data: bytes, *, max_bytes: int) -> Envelope:
    """Parse and validate an envelope; raise :class:`EnvelopeInvalid` saying why not."""
    _check_bytes(data, max_bytes)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        raise EnvelopeInvalid(
            f"The envelope is not well-formed XML: {exc.msg} (line {line}, column {column})."
        ) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise EnvelopeInvalid("The envelope contains a document type declaration.")
    if root.tag != _q("Message"):
        raise EnvelopeInvalid(
            f"The root element is {root.tag}, not {{{NS}}}Message: this is no data-box "
            "envelope of version 1.0."
        )
    errors = schema_errors(tree)
    if errors:
        first = errors[0]
        raise EnvelopeInvalid(
            f"The envelope is not valid against {XSD_FILE}: line {first['line']}: "
            f"{first['message']}",
            details=errors,
        )
    canonical = etree.tostring(tree, method="c14n", with_comments=False)
    return _read(root, canonical)


def _text(parent: etree._Element, *path: str) -> str | None:
    el: etree._Element | None = parent
    for tag in path:
        el = el.find(_q(tag)) if el is not None else None
    if el is None:
        return None
    return el.text or ""


def _reference(root: etree._Element, tag: str) -> Reference:
    return Reference(
        _text(root, tag, "ReferenceNumber") or None, _text(root, tag, "FileMark") or None
    )


def _decode(text: str, name: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EnvelopeInvalid(f"The content of the file {name!r} is not valid base64.") from exc


def _read(root: etree._Element, canonical: bytes) -> Envelope:
    files = tuple(
        EnvelopeFile(
            name=el.get("name"),
            declared_media_type=el.get("mediaType"),
            role=el.get("role"),
            signs=el.get("signs"),
            content=_decode(el.text or "", el.get("name")),
        )
        for el in root.iterfind(f"{_q('Files')}/{_q('File')}")
    )
    legal: dict[str, str] = {}
    title = root.find(_q("LegalTitle"))
    if title is not None:
        for child in title:
            legal[etree.QName(child).localname.lower()] = (child.text or "").strip()
    personal = _text(root, "PersonalDelivery")
    return Envelope(
        version=root.get("version", ""),
        message_id=_text(root, "MessageId") or "",
        sender_box=_text(root, "Sender", "BoxId") or "",
        sender_type=_text(root, "Sender", "Type") or "",
        sender_name=_text(root, "Sender", "Name") or "",
        sender_address=_text(root, "Sender", "Address") or "",
        recipient_box=_text(root, "Recipient", "BoxId") or "",
        recipient_name=_text(root, "Recipient", "Name"),
        subject=_text(root, "Subject") or "",
        sender_reference=_reference(root, "SenderReference"),
        recipient_reference=_reference(root, "RecipientReference"),
        to_hands=_text(root, "ToHands"),
        personal_delivery=(personal or "").strip() in ("true", "1"),
        legal_title=legal,
        files=files,
        sha256=hashlib.sha256(canonical).hexdigest(),
        canonical=canonical,
    )


def build_envelope(
    *,
    message_id: str,
    sender_box: str,
    recipient_box: str,
    subject: str,
    files: list[tuple[str, str, str, bytes] | tuple[str, str, str, bytes, str]],
    sender_type: str = "legal-person",
    sender_name: str = "Odesílatel s.r.o.",
    sender_address: str = "Náměstí 1, 110 00 Praha 1",
    sender_reference: Reference | None = None,
    recipient_reference: Reference | None = None,
    to_hands: str | None = None,
    personal_delivery: bool | None = None,
    legal_title: dict[str, str] | None = None,
) -> bytes:
    """Write an envelope (for the CLI's samples and the tests): ``files`` are
    ``(name, media_type, role, content[, signs])``."""

    def el(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
        child = etree.SubElement(parent, _q(tag))
        if text is not None:
            child.text = text
        return child

    root = etree.Element(_q("Message"), nsmap={None: NS})
    root.set("version", "1.0")
    el(root, "MessageId", message_id)
    sender = el(root, "Sender")
    el(sender, "BoxId", sender_box)
    el(sender, "Type", sender_type)
    el(sender, "Name", sender_name)
    el(sender, "Address", sender_address)
    recipient = el(root, "Recipient")
    el(recipient, "BoxId", recipient_box)
    el(root, "Subject", subject)
    for tag, ref in (
        ("SenderReference", sender_reference),
        ("RecipientReference", recipient_reference),
    ):
        if ref is not None:
            r = el(root, tag)
            if ref.reference_number is not None:
                el(r, "ReferenceNumber", ref.reference_number)
            if ref.file_mark is not None:
                el(r, "FileMark", ref.file_mark)
    if to_hands is not None:
        el(root, "ToHands", to_hands)
    if personal_delivery is not None:
        el(root, "PersonalDelivery", "true" if personal_delivery else "false")
    if legal_title:
        lt = el(root, "LegalTitle")
        for tag in ("Law", "Year", "Section", "Paragraph", "Point"):
            if tag.lower() in legal_title:
                el(lt, tag, legal_title[tag.lower()])
    files_el = el(root, "Files")
    for spec in files:
        name, media_type, role, content = spec[:4]
        f = el(files_el, "File", base64.b64encode(content).decode("ascii"))
        f.set("name", name)
        f.set("mediaType", media_type)
        f.set("role", role)
        if len(spec) == 5:
            f.set("signs", spec[4])  # type: ignore[misc]
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
