"""Receipts, rejection notices, copies and exports: PDF/A-3b with their XML attached.

Public API::

    data = ReceiptData(...)                 # frozen input models (receipts.model)
    pdf = render_receipt(data)              # unsigned PDF/A-3b, XML attached as potvrzeni.xml
    sealed = sealer.seal(pdf, at=now)       # signing.seal.Sealer (PAdES B-T/B-LT/B-LTA)
    key = receipt_key(data.reference, data.received_at)

Rendering uses reportlab with DejaVu Sans (registered once per process); documents are turned
into PDF/A-3b by :mod:`receipts.pdfa`. This package never seals by itself: the caller hands
the rendered bytes to a ``Sealer``.
"""

from .delivery import (
    DeliveryData,
    DeliveryEvent,
    delivery_info_key,
    delivery_receipt_key,
    render_delivery_receipt,
)
from .errors import ReceiptDataError, ReceiptError, RenderError
from .keys import (
    copy_key,
    journal_export_key,
    personal_export_key,
    receipt_key,
    receipt_xml_key,
    rejection_key,
)
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
    RejectionReason,
    Sender,
)
from .render_copy import render_copy
from .render_exports import render_journal, render_personal_export
from .render_receipt import render_receipt
from .render_rejection import render_rejection
from .schema import xml_errors, xsd_path

__all__ = [
    "Authority",
    "CopyData",
    "DeliveryData",
    "DeliveryEvent",
    "FileEntry",
    "FormInfo",
    "JournalEntry",
    "JournalExport",
    "PersonalExport",
    "ReceiptData",
    "ReceiptDataError",
    "ReceiptError",
    "RejectionData",
    "RejectionReason",
    "RenderError",
    "Sender",
    "copy_key",
    "delivery_info_key",
    "delivery_receipt_key",
    "journal_export_key",
    "personal_export_key",
    "receipt_key",
    "receipt_xml_key",
    "rejection_key",
    "render_copy",
    "render_delivery_receipt",
    "render_journal",
    "render_personal_export",
    "render_receipt",
    "render_rejection",
    "xml_errors",
    "xsd_path",
]
