"""Accounts: who may use the portal and the API, and as what.

Roles (see :class:`Role`): anonymous visitors have no account and see public pages only;
*registered* users send forms and see their own filings; *contractual* users also open the
content of what they sent; *clerks* work the journal; *administrators* also manage accounts.
Passwords follow the authority's rules and are hashed with Argon2; five failed logins lock an
account for a configured time; resets and e-mail verification are single-use, expiring links.
Sessions and API tokens are random secrets of which only a digest is stored.

This package knows nothing of HTTP; ``podatelna.web.auth`` puts it on the web.
"""

from podatelna.accounts.errors import (
    AccountError,
    AccountLocked,
    BadCredentials,
    EmailNotVerified,
    EmailTaken,
    InvalidAccountData,
    LinkInvalid,
    UnknownAccount,
    UnknownRole,
    WeakPassword,
)
from podatelna.accounts.models import AccountToken, Role, TokenPurpose, User
from podatelna.accounts.passwords import check_password, password_problems
from podatelna.accounts.service import (
    AccountPolicy,
    LoginOutcome,
    authenticate,
    change_password,
    check_reset_link,
    delete_account,
    email_change_token,
    erase_due,
    find_user,
    get_user,
    issue_token,
    lapse_unused,
    normalise_email,
    register,
    request_reset,
    reset_password,
    revoke_all,
    revoke_token,
    set_role,
    user_for_token,
    verification_token,
    verify_email,
)

__all__ = [
    "AccountError",
    "AccountLocked",
    "AccountPolicy",
    "AccountToken",
    "BadCredentials",
    "EmailNotVerified",
    "EmailTaken",
    "InvalidAccountData",
    "LinkInvalid",
    "LoginOutcome",
    "Role",
    "TokenPurpose",
    "UnknownAccount",
    "UnknownRole",
    "User",
    "WeakPassword",
    "authenticate",
    "change_password",
    "check_password",
    "check_reset_link",
    "delete_account",
    "email_change_token",
    "erase_due",
    "find_user",
    "get_user",
    "issue_token",
    "lapse_unused",
    "normalise_email",
    "password_problems",
    "register",
    "request_reset",
    "reset_password",
    "revoke_all",
    "revoke_token",
    "set_role",
    "user_for_token",
    "verification_token",
    "verify_email",
]
