"""Validation of what senders submit: hardened XML parsing, XSD validation of forms against
the catalogue in :mod:`schemas`, and attachment checks (real media type, size, safe name).

Results are frozen objects with ``to_dict()``/``from_dict()``; errors derive from
:class:`ValidatorError` and carry a stable ``code`` (:class:`IssueCode`).
"""

from __future__ import annotations

from .attachments import (
    DANGEROUS_EXTENSIONS,
    DEFAULT_ALLOWED_MEDIA_TYPES,
    AttachmentCheck,
    AttachmentPolicy,
    check_attachment,
)
from .errors import IssueCode, UnsafeFilename, ValidatorError, XmlRejected
from .filenames import safe_filename
from .forms import FormValidation, canonical_form_bytes, validate_form
from .issues import ValidationIssue
from .media import HEAD_BYTES, describe_media_type, detect_media_type
from .xmlsafe import ALLOWED_ENCODINGS, XmlLimits, parse_untrusted

__all__ = [
    "ALLOWED_ENCODINGS",
    "DANGEROUS_EXTENSIONS",
    "DEFAULT_ALLOWED_MEDIA_TYPES",
    "HEAD_BYTES",
    "AttachmentCheck",
    "AttachmentPolicy",
    "FormValidation",
    "IssueCode",
    "UnsafeFilename",
    "ValidationIssue",
    "ValidatorError",
    "XmlLimits",
    "XmlRejected",
    "canonical_form_bytes",
    "check_attachment",
    "describe_media_type",
    "detect_media_type",
    "parse_untrusted",
    "safe_filename",
    "validate_form",
]
