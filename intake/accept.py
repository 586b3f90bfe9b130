"""Idempotent acceptance of a submission.

:func:`accept` stores every file's raw bytes (content-addressed, through the store it is
handed) and then writes the submission row, its files, an audit entry and the first pipeline
message in **one** transaction (plain statements: this is the hot path of every filing; on
PostgreSQL the submissions arriving at the same time share that transaction, see
:mod:`intake.group_commit`); with a settle hook, in the same transaction, what the hook did
(e.g. registering a plainly unsigned form, see :class:`Settled`). Only
after that commit does the caller answer ``202``: an acknowledged submission is never lost. If
anything fails before the commit, nothing was acknowledged; blobs already stored are
content-addressed and harmless, and a retry with the same idempotency key stores nothing twice.

The same idempotency key (or, absent one, the same sender and payload hash) returns the same
submission. Names of files are kept as the sender gave them (the validation stage judges them);
they are never used as storage paths.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO, Protocol

from sqlalchemy import Connection, Engine, Table, insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from filing_registry import (
    Act,
    Executor,
    OutboxMessage,
    Pending,
    Submission,
    SubmissionFile,
    SubmissionState,
    append_and_commit,
    insert_events,
)
from intake.errors import BadRequest
from intake.group_commit import Job, record_settled, writer_for
from intake.limits import Budget, IntakeLimits

_SUBMISSIONS: Table = Submission.__table__  # type: ignore[assignment]
_FILES: Table = SubmissionFile.__table__  # type: ignore[assignment]
_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
# built once (the values come with each execution): building a statement costs more CPU than
# running it. SQLite: insert a submission unless this sender already used this key.
_INSERT_SUBMISSION = (
    sqlite_insert(_SUBMISSIONS)
    .on_conflict_do_nothing(index_elements=["sender", "dedup_key"])
    .returning(_SUBMISSIONS.c.id)
)
_INSERT_FILES = insert(_FILES)
_INSERT_OUTBOX = insert(_OUTBOX).returning(_OUTBOX.c.id)


@dataclass(frozen=True)
class Draft:
    """A new submission as intake is about to record it, shown to a :data:`Settle` hook."""

    row: Mapping[str, Any]  # the submission's columns
    files: Sequence[Mapping[str, Any]]  # its files' columns, in order
    form: bytes | None  # the form's bytes, when small (see :data:`FORM_HINT_MAX`)


class Settled(Protocol):
    """What a :data:`Settle` hook did with a :class:`Draft`: the submission is recorded past
    its first stages, in the transaction that records it (see :func:`accept`)."""

    @property
    def state(self) -> str:
        """Its state as recorded."""

    @property
    def values(self) -> Mapping[str, Any]:
        """More columns of its row (the stages' results)."""

    @property
    def media_types(self) -> Mapping[int, str]:
        """Position → media type detected from the content."""

    @property
    def lines(self) -> Sequence[Mapping[str, Any]]:
        """More status lines (``state``, ``note``), by the system."""

    @property
    def stage(self) -> str:
        """Its first pipeline message."""

    def prepare(self, executor: Executor, together: Sequence[Settled]) -> None:
        """Called on the first of ``together`` (the settled submissions recorded in this
        transaction, in the order they record) before any of them records: for what they may
        do together (e.g. take their reference numbers in one statement)."""
        ...

    def record(self, executor: Executor, pending: list[Pending]) -> list[Act]:
        """Write the rest (in the transaction, after the submission's row and lines; statements
        to send with the commit go to ``pending``) and return the audit entries of its acts."""
        ...


#: decides, before anything is written, whether a new submission's first stages are done at
#: intake (a :class:`Settled`) or by the pipeline (None); it must not write anything itself
Settle = Callable[[Draft], Settled | None]

#: sends committed first messages ``(outbox id, stage, submission id)`` to the pipeline, with
#: the forms' bytes by submission id where kept (see :attr:`Acceptance.form_bytes`); on
#: PostgreSQL called once for the submissions recorded together (see
#: :mod:`intake.group_commit`), after their commit is durable. It may raise: the messages are
#: then left to the caller (:attr:`Acceptance.sent` is False), and the outbox keeps them anyway.
Send = Callable[[Sequence[tuple[int, str, str]], Mapping[str, bytes]], None]


class Stored(Protocol):
    key: str
    sha256: str
    size: int


class BlobSink(Protocol):
    """Where raw bytes go: content-addressed, never overwritten."""

    def __call__(self, chunks: Iterable[bytes], *, max_bytes: int, content_type: str) -> Stored: ...


@dataclass(frozen=True)
class IncomingFile:
    name: str
    stream: BinaryIO
    role: str = "attachment"  # form | attachment | signature
    declared_media_type: str | None = None


@dataclass(frozen=True)
class Sender:
    id: str  # e-mail of a person, or a data-box id
    name: str = ""


@dataclass(frozen=True)
class Incoming:
    channel: str
    sender: Sender
    form: IncomingFile
    attachments: Sequence[IncomingFile] = ()
    idempotency_key: str | None = None
    confirms_reference: str | None = None
    channel_data: dict[str, Any] | None = None


@dataclass(frozen=True)
class Acceptance:
    submission_id: str
    state: str
    created: bool  # False: an earlier submission with the same key was returned
    #: the first pipeline message, committed with the row: (outbox id, stage, submission id)
    outbox_ids: tuple[tuple[int, str, str], ...] = field(default=())
    #: the form's bytes as received, when small (see :data:`FORM_HINT_MAX`): the first stage
    #: may take them from its message instead of reading them back from the store
    form_bytes: bytes | None = field(default=None, repr=False)
    #: the first message was sent already (through :func:`accept`'s ``send``)
    sent: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.submission_id, "state": self.state, "created": self.created}


#: forms up to this size are kept in memory while stored, for :attr:`Acceptance.form_bytes`
FORM_HINT_MAX = 64 * 1024


class _Keep:
    """Passes chunks through and keeps a copy of them while they total at most ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.parts: list[bytes] = []

    def tap(self, chunks: Iterable[bytes]) -> Iterable[bytes]:
        for chunk in chunks:
            self.size += len(chunk)
            if self.size <= self.limit:
                self.parts.append(bytes(chunk))
            elif self.parts:
                self.parts = []
            yield chunk

    def value(self) -> bytes | None:
        return b"".join(self.parts) if self.size <= self.limit else None


def new_id() -> str:
    return uuid.uuid4().hex


def _clean_name(name: str) -> str:
    name = name or "unnamed"
    return name[:255]


def accept(
    incoming: Incoming,
    *,
    sink: BlobSink,
    sessions: sessionmaker[Session],
    limits: IntakeLimits,
    now: datetime,
    first_stage: str = "validate",
    id_factory: Callable[[], str] = new_id,
    settle: Settle | None = None,
    send: Send | None = None,
) -> Acceptance:
    """Store the files, then record the submission; return it (new or the earlier one).

    ``settle``: a hook that may do the submission's first stages now (e.g. validate and register
    a plainly unsigned form; see :class:`Settled`). What it did is recorded in the **same**
    transaction as the submission itself, so the submission is acknowledged either as received
    or as past those stages, never in between; a repeat of a key is answered as always, and
    what the hook prepared for it is dropped.

    ``send``: on PostgreSQL, the writer of a group of submissions sends their first messages
    with it in one call once they are durable (:attr:`Acceptance.sent`); elsewhere, and when it
    fails, the caller sends the message of :attr:`Acceptance.outbox_ids` itself.
    """
    if not incoming.sender.id:
        raise BadRequest("The sender's identity is missing.")
    if incoming.idempotency_key is not None and not (0 < len(incoming.idempotency_key) <= 200):
        raise BadRequest("The idempotency key must be 1 to 200 characters long.")

    budget = Budget(limits)
    rows: list[dict[str, Any]] = []
    manifest = hashlib.sha256()
    files = [incoming.form, *incoming.attachments]
    kept = _Keep(FORM_HINT_MAX)
    for position, f in enumerate(files):
        budget.add_file()
        limit = limits.max_form_bytes if f.role == "form" else limits.max_file_bytes
        chunks = budget.chunks(f.stream, f.name, limit)
        stored = sink(
            kept.tap(chunks) if position == 0 else chunks,
            max_bytes=limit,
            content_type=f.declared_media_type or "application/octet-stream",
        )
        name = _clean_name(f.name)
        manifest.update(f"{f.role}\0{name}\0{stored.sha256}\n".encode())
        rows.append(
            {
                "position": position,
                "role": f.role,
                "name": name,
                "size": stored.size,
                "media_type": f.declared_media_type or "application/octet-stream",
                "declared_media_type": f.declared_media_type,
                "sha256": stored.sha256,
                "storage_key": stored.key,
            }
        )
    payload_sha256 = manifest.hexdigest()
    if incoming.idempotency_key:
        dedup = f"key:{incoming.idempotency_key}"
    else:
        dedup = f"sha256:{payload_sha256}"

    sub_id = id_factory()
    row = {
        "id": sub_id,
        "channel": incoming.channel,
        "sender": incoming.sender.id,
        "sender_name": incoming.sender.name,
        "dedup_key": dedup,
        "idempotency_key": incoming.idempotency_key,
        "payload_sha256": payload_sha256,
        "received_at": now,
        "updated_at": now,
        "state": SubmissionState.RECEIVED.value,
        "confirms_reference": incoming.confirms_reference,
        "channel_data": incoming.channel_data,
    }
    act = _received_act(incoming, sub_id, rows, payload_sha256, now)
    kept_form = kept.value()
    settled = settle(Draft(row, rows, kept_form)) if settle is not None else None
    if settled is not None:
        row = {**row, **settled.values, "state": settled.state}
        rows = [
            dict(r, media_type=settled.media_types.get(r["position"], r["media_type"]))
            for r in rows
        ]
        first_stage = settled.stage
    engine = _engine_of(sessions)
    # Insert unless this sender already used this key: a repeat (or a concurrent twin, whose
    # commit this waits for) inserts nothing and gets the earlier submission.
    outbox_id: int | None = None
    sent = False
    form = kept_form if settled is None else None
    try:
        if engine.dialect.name == "postgresql":  # with the submissions arriving at once
            lines = _lines(incoming, sub_id, settled)
            job = Job(row, rows, lines, first_stage, act, settled, send=send, form=form)
            outbox_id = writer_for(engine).write(job)
            sent = job.sent
        else:
            # a Connection straight from the engine: an ORM Session would only hand one out
            with engine.begin() as conn:
                if conn.execute(_INSERT_SUBMISSION, row).first() is not None:
                    outbox_id = _record(
                        conn, sub_id, rows, _lines(incoming, sub_id, settled), now, first_stage
                    )
                    acts, pending = record_settled(conn, [(act, settled)])
                    # last, and the commit with it: the chain head stays locked to the commit
                    append_and_commit(conn, acts, first=pending, entries=False)
    except IntegrityError:
        # e.g. SQLite reporting a concurrent twin as a conflict: answer with its submission
        raced = _find(sessions, incoming.sender.id, dedup)
        if raced is None:
            raise
        return raced
    if outbox_id is None:  # nothing written: answer with the earlier submission
        return _repeat(sessions, incoming.sender.id, dedup)
    return Acceptance(
        sub_id,
        settled.state if settled is not None else SubmissionState.RECEIVED.value,
        True,
        ((outbox_id, first_stage, sub_id),),
        form_bytes=form,
        sent=sent,
    )


def _record(
    conn: Connection,
    sub_id: str,
    rows: list[dict[str, Any]],
    lines: list[dict[str, Any]],
    now: datetime,
    first_stage: str,
) -> int:
    """The rest of a new submission: files, status lines, first outbox message."""
    conn.execute(_INSERT_FILES, [dict(r, submission_id=sub_id) for r in rows])
    insert_events(conn, lines, now=now)
    outbox_id = conn.execute(
        _INSERT_OUTBOX, {"submission_id": sub_id, "stage": first_stage, "created_at": now}
    ).scalar_one()
    return int(outbox_id)


def _lines(incoming: Incoming, sub_id: str, settled: Settled | None) -> list[dict[str, Any]]:
    """The status lines of a new submission: *received*, then those of what ``settled`` did."""
    received = {
        "submission_id": sub_id,
        "state": SubmissionState.RECEIVED.value,
        "actor": incoming.sender.id,
        "note": f"received through {incoming.channel}",
    }
    more = settled.lines if settled is not None else ()
    return [received, *({"submission_id": sub_id, "actor": "system", **line} for line in more)]


def _received_act(
    incoming: Incoming,
    sub_id: str,
    rows: list[dict[str, Any]],
    payload_sha256: str,
    now: datetime,
) -> Act:
    """The audit entry of a new submission (appended last, the commit with it: the chain head
    stays locked until the commit)."""
    return Act(
        at=now,
        actor=incoming.sender.id,
        action="submission.received",
        object_type="submission",
        object_id=sub_id,
        subject=incoming.sender.id,
        details={
            "channel": incoming.channel,
            "payload_sha256": payload_sha256,
            "files": [{"name": r["name"], "sha256": r["sha256"], "size": r["size"]} for r in rows],
        },
    )


def _engine_of(sessions: sessionmaker[Session]) -> Engine:
    """The engine the session factory is bound to (intake writes through Core alone)."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, Engine):
        raise TypeError("intake.accept needs a sessionmaker bound to an Engine")
    return bind


def _repeat(sessions: sessionmaker[Session], sender: str, dedup: str) -> Acceptance:
    existing = _find(sessions, sender, dedup)
    if existing is None:  # pragma: no cover - the conflicting row was committed before
        raise RuntimeError(f"The submission of {sender} with {dedup} conflicted, then vanished.")
    return existing


def _find(sessions: sessionmaker[Session], sender: str, dedup: str) -> Acceptance | None:
    with sessions() as session:
        row = session.execute(
            select(Submission.id, Submission.state).where(
                Submission.sender == sender, Submission.dedup_key == dedup
            )
        ).first()
    if row is None:
        return None
    return Acceptance(row[0], row[1], False)
