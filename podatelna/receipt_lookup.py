"""Receipt verification: does a receipt with this code exist, and what does it attest?

The code printed on a receipt (``Ověřovací kód``, and in its QR code as
``<portal>/verify/<code>``) is the filing's ``receipt_id``: 20 upper-case hexadecimal characters
derived from the submission id when the filing is registered (see the ``register`` stage). It is
not guessable from the reference number, so a lookup by code reveals nothing about other filings.

This lookup is public (anyone holding a paper receipt may check it), so what it returns is only
what proves the receipt: the code, the reference number, when the filing was received, when the
receipt was issued, and the name, size and SHA-256 of each file. It never returns the sender, a
name, an address, the subject or the content.

Input is untrusted: it is trimmed, spaces and dashes are dropped, letters are upper-cased, a
pasted verification URL is reduced to its last path segment, and anything that is not exactly a
well-formed code is answered ``None`` without touching the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from filing_registry import Filing, StatusEvent

if TYPE_CHECKING:
    from podatelna.app import App

CODE_LENGTH = 20
_CODE = re.compile(rf"[0-9A-F]{{{CODE_LENGTH}}}")
#: longest input considered at all (a verification URL with a long portal address)
MAX_INPUT = 300


@dataclass(frozen=True)
class ReceiptFile:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ReceiptInfo:
    """What a receipt attests, without personal data."""

    code: str
    reference: str
    received_at: datetime
    #: when the sealed receipt was stored (the ``receipt_issued`` event of the filing)
    issued_at: datetime | None
    files: tuple[ReceiptFile, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "reference": self.reference,
            "received_at": self.received_at.isoformat(),
            "issued_at": self.issued_at.isoformat() if self.issued_at else None,
            "files": [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in self.files],
        }


def normalize_code(text: str) -> str | None:
    """The canonical code in ``text`` (as typed, scanned or pasted), or ``None``."""
    if not isinstance(text, str) or len(text) > MAX_INPUT:
        return None
    text = text.strip()
    if "/" in text:  # a verification URL: <portal>/verify/<code>[?...]
        text = text.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    code = re.sub(r"[\s-]+", "", text).upper()
    return code if _CODE.fullmatch(code) else None


def lookup_receipt(app: App, code: str) -> ReceiptInfo | None:
    """The receipt with verification code ``code``; ``None`` when the code is malformed, unknown,
    or its filing has no issued receipt yet."""
    canonical = normalize_code(code)
    if canonical is None:
        return None
    with app.sessions() as session:
        filing = session.execute(
            select(Filing).where(Filing.receipt_id == canonical)
        ).scalar_one_or_none()
        if filing is None or not filing.receipt_key:
            return None
        issued_at = session.execute(
            select(StatusEvent.at)
            .where(StatusEvent.filing_id == filing.id, StatusEvent.state == "receipt_issued")
            .order_by(StatusEvent.id)
            .limit(1)
        ).scalar_one_or_none()
        files = tuple(ReceiptFile(f.name, f.size, f.sha256) for f in filing.submission.files)
        return ReceiptInfo(
            code=canonical,
            reference=filing.reference,
            received_at=filing.received_at,
            issued_at=issued_at,
            files=files,
        )
