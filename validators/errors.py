"""Errors and issue codes of the ``validators`` package.

Every problem found in untrusted input has a stable machine code (:class:`IssueCode`) and a
full sentence for people. Functions that *check* something return frozen result objects that
carry :class:`~validators.issues.ValidationIssue` values; functions that *must* produce a value
(the hardened parser, :func:`~validators.filenames.safe_filename`) raise a
:class:`ValidatorError` subclass instead, with the same codes.
"""

from __future__ import annotations

from enum import StrEnum


class IssueCode(StrEnum):
    """Stable codes of validation issues (the values are what is stored and serialised)."""

    # hostile or broken XML
    TOO_LARGE = "too_large"
    TOO_DEEP = "too_deep"
    DOCTYPE_FORBIDDEN = "doctype_forbidden"
    BAD_ENCODING = "bad_encoding"
    MALFORMED = "malformed"
    # form types and XSD validation
    UNKNOWN_FORM_TYPE = "unknown_form_type"
    SCHEMA_INVALID = "schema_invalid"
    # attachments
    UNSAFE_FILENAME = "unsafe_filename"
    MEDIA_TYPE_NOT_ALLOWED = "media_type_not_allowed"
    DANGEROUS_EXTENSION = "dangerous_extension"
    FILE_TOO_LARGE = "file_too_large"
    EMPTY_FILE = "empty_file"


class ValidatorError(Exception):
    """Root of the errors raised by :mod:`validators`; ``code`` is an :class:`IssueCode` value."""

    default_code: IssueCode = IssueCode.MALFORMED

    def __init__(
        self,
        message: str,
        *,
        code: IssueCode | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code: str = str(code or self.default_code)
        self.line = line
        self.column = column


class XmlRejected(ValidatorError):
    """Untrusted XML was refused by the hardened parser (too large, too deep, DOCTYPE, bad
    encoding or not well-formed); ``code`` says which."""


class UnsafeFilename(ValidatorError):
    """A file name could be a path trick (separators, ``..``, control characters, ...)."""

    default_code = IssueCode.UNSAFE_FILENAME
