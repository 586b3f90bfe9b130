"""Machine-readable XML of each document (namespace :data:`NS`, XSDs in ``schemas/xsd/``).

Text from the caller is untrusted: characters XML 1.0 cannot carry (controls, lone surrogates)
are replaced by U+FFFD rather than failing the document.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lxml import etree

from ._json import jsonable
from ._time import iso

if TYPE_CHECKING:
    from .model import (
        Authority,
        CopyData,
        FileEntry,
        FormInfo,
        JournalEntry,
        JournalExport,
        PersonalExport,
        ReceiptData,
        RejectionData,
        Sender,
    )

NS = "urn:cz:podatelna:documents:1"
VERSION = "1.0"
_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(value: object) -> str:
    return _INVALID.sub("\ufffd", str(value))


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _root(tag: str) -> etree._Element:
    root = etree.Element(_q(tag), nsmap={None: NS})
    root.set("version", VERSION)
    return root


def _el(parent: etree._Element, tag: str, text: object | None = None) -> etree._Element:
    child = etree.SubElement(parent, _q(tag))
    if text is not None:
        child.text = _clean(text)
    return child


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _authority(parent: etree._Element, a: Authority) -> None:
    el = _el(parent, "Authority")
    _el(el, "Name", a.name)
    _el(el, "Address", a.address)
    _el(el, "OfficeCode", a.office_code)


def _sender(parent: etree._Element, s: Sender) -> None:
    el = _el(parent, "Sender")
    _el(el, "Name", s.name)
    if s.box_id:
        _el(el, "BoxId", s.box_id)
    elif s.email:
        _el(el, "Email", s.email)


def _form(parent: etree._Element, f: FormInfo) -> None:
    el = _el(parent, "Form")
    _el(el, "Code", f.code)
    _el(el, "Name", f.name)
    _el(el, "Version", f.version)


def _files(parent: etree._Element, files: tuple[FileEntry, ...]) -> None:
    el = _el(parent, "Files")
    for f in files:
        fe = _el(el, "File")
        _el(fe, "Name", f.name)
        _el(fe, "Size", int(f.size))
        _el(fe, "MediaType", f.media_type)
        _el(fe, "Sha256", f.sha256.lower())


def _verdicts(parent: etree._Element, verdicts: tuple[str, ...]) -> None:
    el = _el(parent, "SignatureVerdicts")
    for v in verdicts:
        _el(el, "Verdict", v)


def receipt_xml(r: ReceiptData) -> bytes:
    root = _root("Receipt")
    _el(root, "ReceiptId", r.receipt_id)
    _authority(root, r.authority)
    _el(root, "ReferenceNumber", r.reference)
    _el(root, "ReceivedAt", iso(r.received_at))
    _el(root, "Channel", r.channel)
    _sender(root, r.sender)
    _form(root, r.form)
    _el(root, "Subject", r.subject)
    _files(root, r.files)
    _verdicts(root, r.verdicts)
    conf = _el(root, "Confirmation")
    conf.set("needed", "true" if r.confirmation_needed else "false")
    if r.confirmation_deadline is not None:
        _el(conf, "Deadline", r.confirmation_deadline.isoformat())
    ver = _el(root, "Verification")
    _el(ver, "Code", r.verification_code)
    _el(ver, "Url", r.verification_url)
    return _bytes(root)


def rejection_xml(r: RejectionData) -> bytes:
    root = _root("Rejection")
    _el(root, "SubmissionId", r.submission_id)
    _authority(root, r.authority)
    _el(root, "ReceivedAt", iso(r.received_at))
    _sender(root, r.sender)
    if r.form is not None:
        _form(root, r.form)
    reasons = _el(root, "Reasons")
    for reason in r.reasons:
        el = _el(reasons, "Reason")
        _el(el, "Message", reason.message)
        if reason.line is not None:
            _el(el, "Line", int(reason.line))
        if reason.column is not None:
            _el(el, "Column", int(reason.column))
        if reason.path:
            _el(el, "Path", reason.path)
    return _bytes(root)


def copy_xml(c: CopyData) -> bytes:
    root = _root("Copy")
    _el(root, "ReferenceNumber", c.reference)
    _authority(root, c.authority)
    _el(root, "ReceivedAt", iso(c.received_at))
    _el(root, "FormName", c.form_name)
    _el(root, "FormSha256", hashlib.sha256(c.form_xml).hexdigest())
    _el(root, "FormXml", base64.b64encode(c.form_xml).decode("ascii"))
    return _bytes(root)


def _field(parent: etree._Element, name: str, value: Any) -> None:
    el = _el(parent, "Field")
    el.set("name", _clean(name))
    if value is None:
        el.set("null", "true")
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _field(el, str(k), v)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value, start=1):
            _field(el, str(i), v)
    elif isinstance(value, bool):
        el.text = "true" if value else "false"
    else:
        el.text = _clean(value)


def _records(parent: etree._Element, tag: str, rows: Any) -> None:
    el = _el(parent, tag)
    for row in rows:
        rec = _el(el, "Record")
        for k, v in jsonable(row).items():
            _field(rec, k, v)


def personal_export_xml(e: PersonalExport) -> bytes:
    root = _root("PersonalDataExport")
    _el(root, "GeneratedAt", iso(e.generated_at))
    _sender(root, e.sender)
    _records(root, "Submissions", e.submissions)
    _records(root, "Filings", e.filings)
    _records(root, "Verdicts", e.verdicts)
    _records(root, "AuditEntries", e.audit_entries)
    return _bytes(root)


def _entry(parent: etree._Element, j: JournalEntry) -> None:
    el = _el(parent, "Entry")
    _el(el, "ReferenceNumber", j.reference)
    _el(el, "ReceivedAt", iso(j.received_at))
    _el(el, "Channel", j.channel)
    _sender(el, j.sender)
    _form(el, j.form)
    _el(el, "Subject", j.subject)
    _files(el, j.files)
    _verdicts(el, j.verdicts)
    _el(el, "ConfirmationState", j.confirmation_state)
    if j.confirmation_deadline is not None:
        _el(el, "ConfirmationDeadline", j.confirmation_deadline.isoformat())
    _el(el, "Status", j.status)


def journal_xml(j: JournalExport) -> bytes:
    root = _root("FilingJournal")
    _authority(root, j.authority)
    _el(root, "DateFrom", j.date_from.isoformat())
    _el(root, "DateTo", j.date_to.isoformat())
    _el(root, "GeneratedAt", iso(j.generated_at))
    entries = _el(root, "Entries")
    for entry in j.entries:
        _entry(entries, entry)
    return _bytes(root)
