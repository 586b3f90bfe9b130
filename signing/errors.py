"""Errors of the ``signing`` package, under one root class.

Every error carries a stable ``code`` (for machines and logs) and a full-sentence message that
says what is wrong and where. Other modules of the package (sealing, timestamping) define their
own errors by subclassing :class:`SigningError`.

Note that the *verdict* of a verification (a broken, revoked or unqualified signature) is never
an error: it is a report. Errors are for things that prevent producing a report at all (a
trusted list that cannot be loaded or is not properly signed, unreadable input).
"""

from __future__ import annotations


class SigningError(Exception):
    """Root of every error raised by ``signing``."""

    code: str = "signing_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class TrustListError(SigningError):
    """A trusted list could not be loaded: unreadable, malformed, unsigned or wrongly signed."""

    code = "trusted_list_invalid"


class TrustListSignatureError(TrustListError):
    """A trusted list's XAdES signature is missing, broken or made by an unconfigured signer."""

    code = "trusted_list_signature_invalid"


class TrustConfigError(SigningError):
    """The trust settings are unusable (no trusted list, unreadable TL-signer certificate...)."""

    code = "trust_config_invalid"


class InputError(SigningError):
    """A file given for verification cannot be read at all (not a PDF, CMS or XML)."""

    code = "signature_input_invalid"


class FetchRefusedError(SigningError):
    """Fetching trusted lists from the network was asked for while it is switched off."""

    code = "trust_fetching_disabled"
