"""The audit log: every electronic act (what, when, who initiated it, on which object).

Append-only and tamper-evident: each entry's hash is the SHA-256 of the previous entry's hash
and the entry's own fields in a canonical JSON form; the head row of the chain is locked by the
appender, so entries form one line even with many writers. :func:`verify_chain` recomputes the
chain and reports the first broken link. What this does *not* guarantee: someone with write
access to the database can rewrite the whole chain from some point on consistently; anchoring
the head hash elsewhere (e.g. in sealed journal exports) is what detects that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from filing_registry.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def entry_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    subject: str | None,
    details: Mapping[str, Any],
) -> str:
    body = json.dumps(
        {
            "seq": seq,
            "at": at.isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "subject": subject,
            "details": details,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def append(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    subject: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the session's transaction (the chain head stays locked until it ends)."""
    details = dict(details or {})
    # Create the head row if this is the first entry ever. ON CONFLICT DO NOTHING, not a plain
    # insert: two first appenders on PostgreSQL would both see no head and one would fail on
    # the primary key; this way the second waits for the first and then takes the row lock.
    ins = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        ins(AuditHead)
        .values(id=1, seq=0, hash=GENESIS)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    # populate_existing: a session reused across transactions (sessions do not expire on
    # commit) must not take a stale head from its identity map.
    head = session.execute(
        select(AuditHead)
        .where(AuditHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    seq = head.seq + 1
    at = at.astimezone(UTC)  # hash exactly what is stored and read back
    digest = entry_hash(head.hash, seq, at, actor, action, object_type, object_id, subject, details)
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        subject=subject,
        details=details,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(entry)
    head.seq = seq
    head.hash = digest
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    """The result of checking the chain: ``ok``, entries checked, and the first broken link."""

    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "broken_at": self.broken_at,
            "reason": self.reason,
        }

    def summary(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.checked} entries checked"
        return f"audit chain BROKEN at entry {self.broken_at}: {self.reason}"


def verify_entries(entries: Iterable[AuditEntry], head: AuditHead | None = None) -> ChainReport:
    prev = GENESIS
    expected_seq = 1
    checked = 0
    for e in entries:
        if e.seq != expected_seq:
            return ChainReport(False, checked, expected_seq, f"entry {expected_seq} is missing")
        if e.prev_hash != prev:
            return ChainReport(False, checked, e.seq, "it does not carry the previous entry's hash")
        digest = entry_hash(
            prev, e.seq, e.at, e.actor, e.action, e.object_type, e.object_id, e.subject, e.details
        )
        if digest != e.hash:
            return ChainReport(False, checked, e.seq, "its content does not match its hash")
        prev = digest
        expected_seq += 1
        checked += 1
    if head is not None and (head.seq != checked or head.hash != prev):
        return ChainReport(
            False, checked, checked + 1, "the chain head does not match the last entry"
        )
    return ChainReport(True, checked)


def verify_chain(session: Session, batch: int = 5000) -> ChainReport:
    """Recompute the whole chain and report the first broken link."""
    stmt = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=batch)
    entries = session.execute(stmt).scalars()
    head = session.get(AuditHead, 1)
    return verify_entries(entries, head)


def entries_about(session: Session, subject: str) -> list[AuditEntry]:
    """The entries about acts of ``subject`` (what a person may read about themselves)."""
    stmt = (
        select(AuditEntry)
        .where((AuditEntry.subject == subject) | (AuditEntry.actor == subject))
        .order_by(AuditEntry.seq)
    )
    return list(session.execute(stmt).scalars())
