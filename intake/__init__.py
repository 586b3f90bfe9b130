"""Intake: idempotent acceptance of submissions from every channel.

Raw bytes are stored through a store interface the caller hands in; the submission row and the
first pipeline message are written in one transaction before the caller acknowledges.
"""

from intake.accept import (
    Acceptance,
    BlobSink,
    Incoming,
    IncomingFile,
    Send,
    Sender,
    Stored,
    accept,
    new_id,
)
from intake.errors import BadRequest, FileTooLarge, IntakeError, TooLarge, TooManyFiles, Unavailable
from intake.limits import Budget, IntakeLimits

__all__ = [
    "Acceptance",
    "BadRequest",
    "BlobSink",
    "FileTooLarge",
    "Budget",
    "Incoming",
    "IncomingFile",
    "IntakeError",
    "IntakeLimits",
    "Send",
    "Sender",
    "Stored",
    "TooLarge",
    "TooManyFiles",
    "Unavailable",
    "accept",
    "new_id",
]
