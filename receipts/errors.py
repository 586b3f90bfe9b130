"""Errors of the ``receipts`` package, under one root class.

Every error carries a stable ``code`` and a full-sentence message saying what is wrong and where.
"""

from __future__ import annotations


class ReceiptError(Exception):
    """Root of every error raised by ``receipts``."""

    code: str = "receipt_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class ReceiptDataError(ReceiptError):
    """The data given for a document is incomplete or inconsistent (e.g. a naive datetime)."""

    code = "receipt_data_invalid"


class RenderError(ReceiptError):
    """A document could not be rendered (missing font, unreadable form XML...)."""

    code = "receipt_render_failed"
