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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Table,
    TextClause,
    bindparam,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from filing_registry.db import Executor, Pending, dialect_of
from filing_registry.durable import FLUSH_BARRIER, flush_group, run_barrier
from filing_registry.models import AuditEntry, AuditHead

GENESIS = "0" * 64
_LOG: Table = AuditEntry.__table__  # type: ignore[assignment]
_HEAD: Table = AuditHead.__table__  # type: ignore[assignment]
_LOCK_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1).with_for_update()


def _body(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    subject: str | None,
    details: Mapping[str, Any],
) -> str:
    """An entry's fields in the canonical JSON form its hash covers."""
    return json.dumps(
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
    body = _body(seq, at, actor, action, object_type, object_id, subject, details)
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


_SEQ_KEY = ',"seq":'


def body_around_seq(
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    subject: str | None,
    details: Mapping[str, Any],
) -> tuple[bytes, bytes]:
    """The canonical body (UTF-8) before and after the value of ``seq``, the one field only the
    chain head decides: ``prefix + str(seq) + suffix`` is the body of entry ``seq``.

    Keys are sorted, so the top-level ``"seq"`` follows ``"object_type"`` and precedes
    ``"subject"`` (the last key, whose string value has its quotes escaped): the last
    ``,"seq":0,"subject":`` of the text is that one, whatever ``details`` holds.
    """
    body = _body(0, at, actor, action, object_type, object_id, subject, details)
    cut = body.rindex(_SEQ_KEY + '0,"subject":')
    start = cut + len(_SEQ_KEY)
    return body[:start].encode("utf-8"), body[start + 1 :].encode("utf-8")


@dataclass(frozen=True)
class Act:
    """One act to enter in the audit log (see :func:`append_many`)."""

    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    subject: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


#: PostgreSQL: lock the head, write the entries given as one JSON array (in order),
#: each hashed by the server from the one before (the first from the locked head) with its body
#: around its sequence number, and move the head: one statement, one round trip, and one SQL
#: text whatever the number of acts (so that psycopg and the server prepare it once). Under
#: READ COMMITTED the FOR UPDATE waits for a concurrent appender and then returns the head it
#: committed; the UPDATE follows that row too. Without a head row the entries get no sequence
#: number and the statement fails (a NOT NULL violation): it never succeeds without appending.
_PG_APPEND = text(
    """
WITH RECURSIVE locked AS (
    SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE
), head AS (
    SELECT locked.seq, locked.hash FROM (VALUES (1)) AS one (x) LEFT JOIN locked ON true
), acts AS (
    SELECT a.at, a.actor, a.action, a.object_type, a.object_id, a.subject, a.details,
           decode(a.prefix, 'hex') AS prefix, decode(a.suffix, 'hex') AS suffix, a.n
    FROM jsonb_to_recordset(CAST(:acts AS JSONB)) AS a (n bigint, at timestamptz, actor text,
        action text, object_type text, object_id text, subject text, details text,
        prefix text, suffix text)
), chain AS (
    SELECT CAST(0 AS bigint) AS n, CAST(head.seq AS bigint) AS seq,
           CAST(head.hash AS text) AS hash, CAST(NULL AS text) AS prev_hash
    FROM head
    UNION ALL
    SELECT a.n, chain.seq + 1,
           encode(sha256(convert_to(chain.hash, 'UTF8') || a.prefix
                         || convert_to((chain.seq + 1)::text, 'UTF8') || a.suffix), 'hex'),
           chain.hash
    FROM chain JOIN acts AS a ON a.n = chain.n + 1
), entries AS (
    INSERT INTO audit_log
        (seq, at, actor, action, object_type, object_id, subject, details, prev_hash, hash)
    SELECT chain.seq, a.at, a.actor, a.action, a.object_type, a.object_id, a.subject,
           CAST(a.details AS JSON), chain.prev_hash, chain.hash
    FROM chain JOIN acts AS a ON a.n = chain.n
    ORDER BY chain.n
    RETURNING seq, prev_hash, hash
), moved AS (
    UPDATE audit_head SET seq = last.seq, hash = last.hash
    FROM (SELECT seq, hash FROM chain ORDER BY n DESC LIMIT 1) AS last
    WHERE audit_head.id = 1
)
SELECT seq, prev_hash, hash FROM entries ORDER BY seq
"""
)


def append(
    executor: Executor,
    *,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    subject: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (see :func:`append_many`)."""
    act = Act(at, actor, action, object_type, object_id, subject, dict(details or {}))
    return append_many(executor, [act])[0]


def append_many(executor: Executor, acts: Sequence[Act]) -> list[AuditEntry]:
    """Append ``acts``, in order, in the caller's transaction (an ORM session or a Core
    connection).

    The chain head is locked from here until the transaction ends, and every appender waits for
    it: call this as the **last** write of a transaction, so the lock is held for as little as
    possible (on PostgreSQL: one statement for all the acts, then the commit). Pending ORM
    changes of a session are flushed *before* the lock is taken, for the same reason. Returns
    the entries (not attached to any session).
    """
    if not acts:
        return []
    if isinstance(executor, Session):
        executor.flush()
    fields = _fields(acts)
    postgres = dialect_of(executor) == "postgresql"
    if postgres:
        rows = _pg_append_rows(executor, fields, commit=False)
        return [
            AuditEntry(seq=seq, prev_hash=prev_hash, hash=digest, **f)
            for (seq, prev_hash, digest), f in zip(rows, fields, strict=True)
        ]
    # SQLite: the transaction holds the database write lock already; plain statements. The
    # head is read as plain columns (never from a session's identity map, which may hold a
    # stale head across transactions).
    head = executor.execute(_LOCK_HEAD).first()
    if head is None:
        _create_head(executor, postgres)
        head = executor.execute(_LOCK_HEAD).one()
    seq, prev_hash = head
    entries = []
    for f in fields:
        seq += 1
        digest = entry_hash(prev_hash, seq, **f)
        entries.append(dict(f, seq=seq, prev_hash=prev_hash, hash=digest))
        prev_hash = digest
    executor.execute(insert(_LOG), entries)
    executor.execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": prev_hash})
    return [AuditEntry(**e) for e in entries]


def _fields(acts: Sequence[Act]) -> list[dict[str, Any]]:
    return [
        {
            "at": act.at.astimezone(UTC),  # hash exactly what is stored and read back
            "actor": act.actor,
            "action": act.action,
            "object_type": act.object_type,
            "object_id": act.object_id,
            "subject": act.subject,
            "details": dict(act.details),
        }
        for act in acts
    ]


def _pg_params(fields: list[dict[str, Any]]) -> dict[str, Any]:
    """The parameter of :data:`_PG_APPEND`: the acts as one JSON array (encoded in C, where
    psycopg's adaptation of one array per column costs more than the statement saves)."""
    acts = []
    for n, f in enumerate(fields, 1):
        prefix, suffix = body_around_seq(**f)
        acts.append(
            dict(
                f,
                n=n,
                at=f["at"].isoformat(),
                details=json.dumps(f["details"]),
                prefix=prefix.hex(),
                suffix=suffix.hex(),
            )
        )
    return {"acts": json.dumps(acts)}


#: databases (by URL) known to have the chain head row in this process: it is created once,
#: before the first entry, and never removed
_HEAD_SEEN: set[str] = set()


def _pg_append_rows(
    executor: Executor,
    fields: list[dict[str, Any]],
    *,
    commit: bool,
    first: Sequence[Pending] = (),
    committed: Callable[[], None] | None = None,
) -> list[tuple[int, str, str]]:
    bind = executor.get_bind() if isinstance(executor, Session) else executor
    url = bind.engine.url.render_as_string(hide_password=True)
    if url not in _HEAD_SEEN:
        # in a transaction of its own, committed at once: an appender that finds the URL here
        # must find the committed head row too
        with bind.engine.connect() as own:
            _create_head(own, True)
            own.commit()
        _HEAD_SEEN.add(url)
    params = _pg_params(fields)
    if not commit:
        return [tuple(r) for r in executor.execute(_PG_APPEND, params).all()]  # type: ignore[misc]
    # Send the statements and the COMMIT together (psycopg pipeline mode), and commit without
    # waiting for the WAL flush (synchronous_commit off for this transaction only): the locks
    # the transaction holds (the chain head, a reference counter) are released as soon as its
    # commit record is written, not after a disk flush and not after this client comes back.
    # Durability is then awaited by a flush barrier before returning (filing_registry.durable:
    # a synchronous commit that begins after ours, shared with the other threads of this
    # process that wait at the same time). A later transaction that built on ours (the next
    # audit entry, the next number) is later in the WAL, so a crash can never keep it and lose
    # ours. The caller's own commit then finds no transaction left and does nothing.
    conn = executor.connection() if isinstance(executor, Session) else executor
    raw = conn.connection.dbapi_connection
    sql = _compiled(_PG_APPEND, conn.dialect)
    cur = None
    try:
        with raw.pipeline():  # type: ignore[union-attr]
            raw.execute(_ASYNC_COMMIT)  # type: ignore[union-attr]
            for pending in first:
                before = raw.cursor()  # type: ignore[union-attr]
                before.execute(_compiled(pending.statement, conn.dialect), pending.params)
            cur = raw.cursor()  # type: ignore[union-attr]
            cur.execute(sql, params)
            raw.commit()  # type: ignore[union-attr]
            rows = [tuple(r) for r in cur.fetchall()]
        cur = None
        if committed is not None:
            committed()
        sql = FLUSH_BARRIER
        flush_group(url).wait(lambda: run_barrier(raw))
        return rows
    except conn.dialect.loaded_dbapi.Error as exc:
        # as SQLAlchemy reports (and, on a lost connection, invalidates) any other statement
        conn._handle_dbapi_exception(exc, sql, params, cur, None)  # type: ignore[arg-type]
        raise


_ASYNC_COMMIT = "SET LOCAL synchronous_commit = off"


@cache
def _compiled(statement: TextClause, dialect: Any) -> str:
    return str(statement.compile(dialect=dialect))


def append_and_commit(
    executor: Executor,
    acts: Sequence[Act],
    *,
    first: Sequence[Pending] = (),
    entries: bool = True,
    committed: Callable[[], None] | None = None,
) -> list[AuditEntry]:
    """Append ``acts`` as the last writes of the caller's transaction **and commit it**, after
    the statements ``first`` left pending (e.g. by :func:`filing_registry.enter`).

    On PostgreSQL the pending statements, the append and the COMMIT go to the server in one
    round trip, and the locks the transaction holds (the chain head, a reference counter) are
    released once the commit record is written, without waiting for the client or the disk;
    this returns only when the commit is durable (a flush barrier, see the code). Elsewhere: the
    statements, :func:`append_many`, and the caller's commit. Either way nothing may be written
    in the transaction after this. ``entries=False``: return an empty list instead of the
    entries (on PostgreSQL, building them as ORM objects costs CPU that the pipeline's hot
    paths, which never read them, need not spend). ``committed`` (PostgreSQL): called once the
    commit is done, before its durability is awaited (e.g. to let the next writer start).
    """
    if dialect_of(executor) != "postgresql" or not acts:
        for pending in first:
            executor.execute(pending.statement, pending.params)
        appended = append_many(executor, acts)
        return appended if entries else []
    if isinstance(executor, Session):
        executor.flush()
    fields = _fields(acts)
    rows = _pg_append_rows(executor, fields, commit=True, first=first, committed=committed)
    if not entries:
        return []
    return [
        AuditEntry(seq=seq, prev_hash=prev_hash, hash=digest, **f)
        for (seq, prev_hash, digest), f in zip(rows, fields, strict=True)
    ]


_MOVE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


def _create_head(executor: Executor, postgres: bool) -> None:
    """Create the head row before the first entry ever. ON CONFLICT DO NOTHING, not a plain
    insert: two first appenders on PostgreSQL would both see no head and one would fail on the
    primary key; this way the second waits for the first and then takes the row lock."""
    ins = pg_insert if postgres else sqlite_insert
    first = ins(_HEAD).values(id=1, seq=0, hash=GENESIS)
    executor.execute(first.on_conflict_do_nothing(index_elements=["id"]))


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
    head = session.get(AuditHead, 1, populate_existing=True)
    return verify_entries(entries, head)


def entries_about(session: Session, *subjects: str) -> list[AuditEntry]:
    """The entries about acts of ``subjects`` (what a person may read about themselves, under
    every address they used), each once, in chain order."""
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.subject.in_(subjects) | AuditEntry.actor.in_(subjects))
        .order_by(AuditEntry.seq)
    )
    return list(session.execute(stmt).scalars())
