"""Password rules and hashing (Argon2id through argon2-cffi).

The rules are the authority's: at least 8 characters, with a digit, an upper-case and a
lower-case letter. Hashes carry their own parameters, so ``needs_rehash`` lets a later login
upgrade an old hash in place.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from podatelna.accounts.errors import WeakPassword

MIN_LENGTH = 8
MAX_LENGTH = 1024  # hashing a megabyte-long "password" is a denial of service, not a password

_hasher = PasswordHasher()

#: a valid hash of a random password, verified against when the e-mail is unknown, so a login
#: for an unknown address takes as long as one for a known address
_DUMMY_HASH = _hasher.hash("Dummy-password-1")


def password_problems(password: str) -> list[str]:
    """What the password lacks, as short sentences (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"It must have at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        problems.append(f"It must have at most {MAX_LENGTH} characters.")
    if not any(c.isdigit() for c in password):
        problems.append("It must contain a digit.")
    if not any(c.isupper() for c in password):
        problems.append("It must contain an upper-case letter.")
    if not any(c.islower() for c in password):
        problems.append("It must contain a lower-case letter.")
    return problems


def check_password(password: str) -> None:
    problems = password_problems(password)
    if problems:
        raise WeakPassword("The password is too weak. " + " ".join(problems))


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; with no stored hash, a dummy check of equal cost."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
