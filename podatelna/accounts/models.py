"""The accounts tables: users and the tokens issued to them.

One token table serves every kind of secret handed to a person: e-mail verification links,
password-reset links, browser sessions and API bearer tokens. Only the SHA-256 of a token is
stored, so a copy of the database does not let anyone log in or reset a password.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from filing_registry.db import Base, UTCDateTime


class Role(enum.StrEnum):
    """What an account may do; anonymous visitors have no account at all."""

    REGISTERED = "registered"  # sends forms, sees own filings, receipts and copies
    CONTRACTUAL = "contractual"  # also opens the content of what they sent
    CLERK = "clerk"  # the journal, confirmations, filing status
    ADMIN = "admin"  # everything a clerk may, and accounts and roles

    @property
    def is_staff(self) -> bool:
        return self in (Role.CLERK, Role.ADMIN)


class TokenPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose, not a secret
    SESSION = "session"
    API = "api"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    surname: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.REGISTERED.value)
    #: e-mail addresses this account used before (its filings stay its own after a change)
    former_emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: failed logins since the last success or lock
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: set when the account ends; personal data is erased by ``erase_after``
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    erase_after: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    tokens: Mapped[list[AccountToken]] = relationship(back_populates="user")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.surname}".strip()

    @property
    def addresses(self) -> list[str]:
        """Every address the account's filings may have been sent under."""
        return [self.email, *(self.former_emails or [])]

    @property
    def active(self) -> bool:
        return self.deleted_at is None


class AccountToken(Base):
    __tablename__ = "account_tokens"
    __table_args__ = (Index("ix_account_tokens_user_purpose", "user_id", "purpose"),)

    #: SHA-256 (hex) of the secret handed out; the secret itself is never stored
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: single-use links are spent here; sessions and API tokens set it when revoked
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: e.g. the new address of an e-mail change, or an API token's label
    data: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)

    user: Mapped[User] = relationship(back_populates="tokens", lazy="joined")
