"""Errors of intake. Each carries a stable ``code``, an HTTP-like ``status`` and a sentence."""

from __future__ import annotations


class IntakeError(Exception):
    code = "intake_error"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TooLarge(IntakeError):
    """An upload exceeded a size limit; it was refused while it streamed in."""

    code = "too_large"
    status = 413


class FileTooLarge(TooLarge):
    """One file exceeded the per-file limit."""

    code = "file_too_large"


class TooManyFiles(IntakeError):
    code = "too_many_files"
    status = 413


class BadRequest(IntakeError):
    code = "bad_request"
    status = 400


class Unavailable(IntakeError):
    """A backend (object store, database) could not take the submission: nothing was
    acknowledged, and the client may retry with the same idempotency key."""

    code = "unavailable"
    status = 503
