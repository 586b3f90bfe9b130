"""Stable object-store keys of issued documents (the lead's storage wiring uses them).

``receipts/2026/MMO-00042-2026.pdf``: the year is the receipt year in Europe/Prague; the
reference number's slashes become dashes and any other character outside ``[A-Za-z0-9._-]``
becomes ``_``, so a key never contains a path separator or ``..`` from the reference.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from ._time import PRAGUE
from .errors import ReceiptDataError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def _slug(value: str) -> str:
    slug = _UNSAFE.sub("_", value.strip().replace("/", "-")).strip(".")
    if not slug:
        raise ReceiptDataError(f"The identifier {value!r} cannot be used in a storage key.")
    return slug


def _year(at: datetime) -> int:
    if at.tzinfo is None:
        raise ReceiptDataError(f"The time {at!r} for a storage key must be timezone-aware.")
    return at.astimezone(PRAGUE).year


def receipt_key(reference: str, received_at: datetime) -> str:
    return f"receipts/{_year(received_at)}/{_slug(reference)}.pdf"


def receipt_xml_key(reference: str, received_at: datetime) -> str:
    return f"receipts/{_year(received_at)}/{_slug(reference)}.xml"


def copy_key(reference: str, received_at: datetime) -> str:
    return f"copies/{_year(received_at)}/{_slug(reference)}.pdf"


def rejection_key(submission_id: str, received_at: datetime) -> str:
    return f"rejections/{_year(received_at)}/{_slug(submission_id)}.pdf"


def personal_export_key(
    sender: str, generated_at: datetime, ext: str = "pdf", export_id: str = ""
) -> str:
    """Where an export is stored; ``export_id`` tells apart two made in the same second."""
    stamp = _stamp(generated_at, export_id)
    return f"exports/personal/{_slug(sender)}/{stamp}.{_slug(ext)}"


def _stamp(generated_at: datetime, export_id: str) -> str:
    stamp = generated_at.astimezone(PRAGUE).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{_slug(export_id)}" if export_id else stamp


def journal_export_key(
    date_from: date, date_to: date, generated_at: datetime, ext: str = "pdf", export_id: str = ""
) -> str:
    stamp = _stamp(generated_at, export_id)
    return f"exports/journal/{date_from.isoformat()}_{date_to.isoformat()}/{stamp}.{_slug(ext)}"
