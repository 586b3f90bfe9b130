"""Errors of the accounts domain: one root class, each with a stable ``code`` and a sentence."""

from __future__ import annotations


class AccountError(Exception):
    """Root of the accounts errors. ``status`` is the HTTP status the web layer answers with."""

    code = "account_error"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WeakPassword(AccountError):
    code = "weak_password"
    status = 422


class InvalidAccountData(AccountError):
    code = "invalid_account_data"
    status = 422


class EmailTaken(AccountError):
    code = "email_taken"
    status = 409


class BadCredentials(AccountError):
    """Wrong e-mail or password; deliberately does not say which."""

    code = "bad_credentials"
    status = 401


class AccountLocked(AccountError):
    code = "account_locked"
    status = 423


class EmailNotVerified(AccountError):
    code = "email_not_verified"
    status = 403


class LinkInvalid(AccountError):
    """A verification or reset link that is unknown, used already or expired."""

    code = "link_invalid"
    status = 400


class UnknownAccount(AccountError):
    code = "unknown_account"
    status = 404


class UnknownRole(AccountError):
    code = "unknown_role"
    status = 422
