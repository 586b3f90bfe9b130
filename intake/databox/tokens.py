"""API tokens of sending systems: created once, stored hashed, scoped to sender boxes, revocable.

A token reads ``pdbx_<id>_<secret>``: the id finds the row, the secret (256 random bits) is
compared by its SHA-256 in constant time. A fast hash is enough because the secret is random
and long (no dictionary to try); the database never holds a usable token. The token is shown
once, when it is created.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from filing_registry import NotFound, audit
from intake.databox.errors import SenderBoxNotAllowed, TokenInvalid, TokenMissing, TokenRevoked
from intake.databox.models import DataboxToken

PREFIX = "pdbx"
_TOKEN = re.compile(r"\Apdbx_([0-9a-f]{12})_([A-Za-z0-9_-]{43})\Z")
BOX_ID = re.compile(r"\A[a-z0-9]{7}\Z")


@dataclass(frozen=True)
class TokenInfo:
    id: str
    name: str
    sender_boxes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    def may_send_for(self, box_id: str) -> bool:
        return box_id in self.sender_boxes

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "sender_boxes": list(self.sender_boxes),
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
            "revoked": self.revoked_at is not None,
        }


def _info(row: DataboxToken) -> TokenInfo:
    return TokenInfo(
        row.id,
        row.name,
        tuple(row.sender_boxes or ()),
        row.created_at,
        row.revoked_at,
        row.last_used_at,
    )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def create_token(
    sessions: sessionmaker[Session],
    *,
    sender_boxes: list[str],
    name: str = "",
    now: datetime,
    actor: str = "cli",
) -> tuple[str, TokenInfo]:
    """A new token for ``sender_boxes``: ``(token, info)``. The token is not stored."""
    boxes = sorted(set(sender_boxes))
    if not boxes:
        raise ValueError("A token needs at least one sender box id.")
    bad = [b for b in boxes if not BOX_ID.match(b)]
    if bad:
        raise ValueError(
            f"{', '.join(map(repr, bad))}: a data-box id is 7 lower-case letters and digits."
        )
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = DataboxToken(
        id=token_id,
        name=name[:200],
        secret_sha256=_digest(secret),
        sender_boxes=boxes,
        created_at=now,
    )
    with sessions() as session, session.begin():
        session.add(row)
        audit(
            session,
            at=now,
            actor=actor,
            action="databox.token_created",
            object_type="databox_token",
            object_id=token_id,
            details={"name": row.name, "sender_boxes": boxes},
        )
    return f"{PREFIX}_{token_id}_{secret}", _info(row)


def revoke_token(
    sessions: sessionmaker[Session], token_id: str, *, now: datetime, actor: str = "cli"
) -> TokenInfo:
    """Revoke a token (idempotent: an already revoked token keeps its first revocation time)."""
    with sessions() as session, session.begin():
        row = session.get(DataboxToken, token_id)
        if row is None:
            raise NotFound(f"No data-box token has the id {token_id!r}.")
        if row.revoked_at is None:
            row.revoked_at = now
            audit(
                session,
                at=now,
                actor=actor,
                action="databox.token_revoked",
                object_type="databox_token",
                object_id=token_id,
                details={},
            )
        return _info(row)


def list_tokens(sessions: sessionmaker[Session]) -> list[TokenInfo]:
    with sessions() as session:
        rows = session.execute(select(DataboxToken).order_by(DataboxToken.created_at)).scalars()
        return [_info(r) for r in rows]


def authenticate(
    sessions: sessionmaker[Session], authorization: str | None, *, now: datetime
) -> TokenInfo:
    """The token of an ``Authorization: Bearer <token>`` header, or a 401 error."""
    if not authorization:
        raise TokenMissing(
            "Send the sending system's token in the header 'Authorization: Bearer <token>'."
        )
    scheme, _, token = authorization.strip().partition(" ")
    match = _TOKEN.match(token.strip()) if scheme.lower() == "bearer" else None
    if match is None:
        raise TokenInvalid("The bearer token is not a data-box token of this office.")
    token_id, secret = match.groups()
    with sessions() as session, session.begin():
        row = session.get(DataboxToken, token_id)
        if row is None or not hmac.compare_digest(row.secret_sha256, _digest(secret)):
            raise TokenInvalid("The bearer token is not a data-box token of this office.")
        if row.revoked_at is not None:
            raise TokenRevoked(
                f"The token {token_id} was revoked on {row.revoked_at.isoformat()}; ask the "
                "office for a new one."
            )
        row.last_used_at = now
        return _info(row)


def require_box(token: TokenInfo, box_id: str) -> None:
    if not token.may_send_for(box_id):
        raise SenderBoxNotAllowed(
            f"The token {token.id} may send only for the boxes "
            f"{', '.join(token.sender_boxes)}, not for {box_id!r}."
        )
