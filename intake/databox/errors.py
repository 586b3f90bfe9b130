"""Errors of data-box intake, under :class:`intake.IntakeError` (a ``code``, a ``status``, a
sentence).

Refusals here mean *nothing was recorded*: the request was not authenticated, the body was no
envelope we can read, or the container's signature did not hold. A message that was read and
trusted but fails a check is not an error: it is recorded as *rejected* with its reasons
(:class:`intake.databox.checks.Reason`).
"""

from __future__ import annotations

from typing import Any

from intake.errors import IntakeError


class DataboxError(IntakeError):
    code = "databox_error"
    status = 400

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.details = details or []


class TokenMissing(DataboxError):
    code = "token_missing"
    status = 401


class TokenInvalid(DataboxError):
    code = "token_invalid"
    status = 401


class TokenRevoked(DataboxError):
    code = "token_revoked"
    status = 401


class SenderBoxNotAllowed(DataboxError):
    """The token may not send for the envelope's sender box."""

    code = "sender_box_not_allowed"
    status = 403


class BodyTooLarge(DataboxError):
    code = "too_large"
    status = 413


class EnvelopeInvalid(DataboxError):
    """The body is not an envelope: not XML, refused by the hardened parser, or not valid
    against ``databox-envelope-1.0.xsd`` (``details`` lists the schema errors)."""

    code = "envelope_invalid"
    status = 400


class ContainerInvalid(DataboxError):
    """A CMS container that carries no envelope (detached, empty, malformed)."""

    code = "container_invalid"
    status = 400


class ContainerUntrusted(DataboxError):
    """The container's signature does not lead to a trust anchor of the configured trusted
    lists, or cannot be validated at all (INDETERMINATE)."""

    code = "container_untrusted"
    status = 422


class ContainerSignatureInvalid(DataboxError):
    """The container's signature is broken: it does not cover the content it carries, or the
    signature value does not verify (TOTAL_FAILED)."""

    code = "container_signature_invalid"
    status = 422


class MessageIdConflict(DataboxError):
    """The sender box already sent a different message under the same message id."""

    code = "message_id_conflict"
    status = 409


class MessageNotFound(DataboxError):
    code = "message_not_found"
    status = 404
