"""Input models of the documents: frozen dataclasses filled by the pipeline from the registry.

Each document model has ``to_xml() -> bytes`` (valid against its XSD in ``schemas/xsd/``); the
exports also have ``to_json() -> bytes``. Times must be timezone-aware; they are printed in
Europe/Prague with their offset, to the second. Rows given as plain tuples (``files``,
``reasons``) are converted to their row classes, so the pipeline may pass either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from .errors import ReceiptDataError

Channel = Literal["portal", "databox", "cli"]
CHANNELS: tuple[str, ...] = ("portal", "databox", "cli")


def _aware(value: datetime, what: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ReceiptDataError(f"The {what} must be a timezone-aware datetime, not {value!r}.")


def _rows(obj: object, name: str, cls: type, what: str) -> None:
    values = getattr(obj, name)
    try:
        rows = tuple(v if isinstance(v, cls) else cls(*v) for v in values)
    except TypeError as exc:
        raise ReceiptDataError(f"The {what} rows are malformed: {exc}.") from exc
    object.__setattr__(obj, name, rows)


@dataclass(frozen=True)
class Authority:
    name: str
    address: str
    office_code: str


@dataclass(frozen=True)
class Sender:
    """Who filed: a name and an e-mail address (portal, CLI) or a data-box id."""

    name: str
    email: str | None = None
    box_id: str | None = None

    @property
    def contact(self) -> str:
        if self.box_id:
            return f"datová schránka {self.box_id}"
        return self.email or ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "email": self.email, "box_id": self.box_id}


@dataclass(frozen=True)
class FormInfo:
    code: str
    name: str
    version: str


@dataclass(frozen=True)
class FileEntry:
    name: str
    size: int
    media_type: str
    sha256: str


@dataclass(frozen=True)
class RejectionReason:
    message: str
    line: int | None = None
    column: int | None = None
    path: str | None = None


@dataclass(frozen=True)
class ReceiptData:
    """Potvrzení o přijetí podání."""

    receipt_id: str
    authority: Authority
    reference: str
    received_at: datetime
    channel: Channel
    sender: Sender
    form: FormInfo
    subject: str
    files: tuple[FileEntry, ...]
    #: the signature verdicts in plain words (Czech sentences given by the caller)
    verdicts: tuple[str, ...]
    confirmation_needed: bool
    confirmation_deadline: date | None
    verification_code: str
    verification_url: str

    def __post_init__(self) -> None:
        _aware(self.received_at, "receipt's received_at")
        if self.channel not in CHANNELS:
            raise ReceiptDataError(f"The channel {self.channel!r} is not one of {CHANNELS}.")
        if self.confirmation_needed and self.confirmation_deadline is None:
            raise ReceiptDataError("A receipt needing confirmation must give its deadline.")
        _rows(self, "files", FileEntry, "receipt's file")
        object.__setattr__(self, "verdicts", tuple(self.verdicts))

    def to_xml(self) -> bytes:
        from ._xml import receipt_xml

        return receipt_xml(self)


@dataclass(frozen=True)
class RejectionData:
    """Oznámení o odmítnutí podání."""

    submission_id: str
    authority: Authority
    received_at: datetime
    sender: Sender
    form: FormInfo | None
    reasons: tuple[RejectionReason, ...]

    def __post_init__(self) -> None:
        _aware(self.received_at, "rejection's received_at")
        _rows(self, "reasons", RejectionReason, "rejection's reason")
        if not self.reasons:
            raise ReceiptDataError("A rejection notice must give at least one reason.")

    def to_xml(self) -> bytes:
        from ._xml import rejection_xml

        return rejection_xml(self)


@dataclass(frozen=True)
class CopyData:
    """Opis podání: the submitted form, readable, for printing and hand-signing."""

    reference: str
    authority: Authority
    received_at: datetime
    form_name: str
    #: the form XML as submitted (untrusted; parsed with a hardened parser)
    form_xml: bytes

    def __post_init__(self) -> None:
        _aware(self.received_at, "copy's received_at")

    def to_xml(self) -> bytes:
        from ._xml import copy_xml

        return copy_xml(self)


@dataclass(frozen=True)
class PersonalExport:
    """Everything the system holds about one sender identity (GDPR art. 15 export)."""

    sender: Sender
    generated_at: datetime
    submissions: Sequence[Mapping[str, Any]] = ()
    filings: Sequence[Mapping[str, Any]] = ()
    verdicts: Sequence[Mapping[str, Any]] = ()
    audit_entries: Sequence[Mapping[str, Any]] = ()
    authority: Authority | None = None

    def __post_init__(self) -> None:
        _aware(self.generated_at, "export's generated_at")
        for name in ("submissions", "filings", "verdicts", "audit_entries"):
            object.__setattr__(self, name, tuple(dict(v) for v in getattr(self, name)))

    def to_dict(self) -> dict[str, Any]:
        from ._json import jsonable

        return {
            "kind": "personal-data-export",
            "version": "1.0",
            "generated_at": jsonable(self.generated_at),
            "sender": self.sender.to_dict(),
            "submissions": jsonable(self.submissions),
            "filings": jsonable(self.filings),
            "verdicts": jsonable(self.verdicts),
            "audit_entries": jsonable(self.audit_entries),
        }

    def to_json(self) -> bytes:
        from ._json import dumps

        return dumps(self.to_dict())

    def to_xml(self) -> bytes:
        from ._xml import personal_export_xml

        return personal_export_xml(self)


@dataclass(frozen=True)
class JournalEntry:
    """One filing as the journal (podací deník) keeps it."""

    reference: str
    received_at: datetime
    channel: Channel
    sender: Sender
    form: FormInfo
    subject: str
    files: tuple[FileEntry, ...] = ()
    verdicts: tuple[str, ...] = ()
    confirmation_state: str = ""
    confirmation_deadline: date | None = None
    status: str = ""

    def __post_init__(self) -> None:
        _aware(self.received_at, f"journal entry {self.reference}'s received_at")
        _rows(self, "files", FileEntry, f"journal entry {self.reference}'s file")
        object.__setattr__(self, "verdicts", tuple(self.verdicts))


@dataclass(frozen=True)
class JournalExport:
    """The filing journal for a date range (inclusive)."""

    authority: Authority
    date_from: date
    date_to: date
    generated_at: datetime
    entries: tuple[JournalEntry, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        _aware(self.generated_at, "journal export's generated_at")
        if self.date_to < self.date_from:
            raise ReceiptDataError(
                f"The journal range ends ({self.date_to}) before it starts ({self.date_from})."
            )
        object.__setattr__(self, "entries", tuple(self.entries))

    def to_xml(self) -> bytes:
        from ._xml import journal_xml

        return journal_xml(self)

    def to_json(self) -> bytes:
        from ._json import dumps, journal_dict

        return dumps(journal_dict(self))
