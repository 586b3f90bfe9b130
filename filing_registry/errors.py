"""Errors of the registry. Each carries a stable ``code`` for machines and a sentence for people."""

from __future__ import annotations


class RegistryError(Exception):
    """Root of the registry's errors."""

    code = "registry_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(RegistryError):
    code = "not_found"


class InvalidTransition(RegistryError):
    """A state change that the state machine does not allow."""

    code = "invalid_transition"


class AlreadyRegistered(RegistryError):
    """The submission already has a journal entry (and a reference number)."""

    code = "already_registered"


class BadReferencePattern(RegistryError):
    code = "bad_reference_pattern"


class AuditChainBroken(RegistryError):
    code = "audit_chain_broken"
