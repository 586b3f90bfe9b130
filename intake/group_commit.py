"""Group commit of intake on PostgreSQL: the submissions that arrive together are written together.

Each accepted submission needs its rows (the submission, its files, its first status line, its
first pipeline message), its audit entry and a durable commit before ``202`` is answered. When
several requests reach that point at the same time, one of them (the *leader*) writes them all
in one transaction: one statement for the rows of all of them, one for their audit entries and
the commit (see :func:`filing_registry.append_and_commit`), one flush barrier. The others wait;
each request still returns only once its own submission is durable. Under load that turns a
transaction per submission into a transaction per group, and a request alone is a group of one.

Once the group is durable, the leader also sends the group's first pipeline messages, in one
call of the requests' ``send`` (see :data:`intake.accept.Send`): one broker round trip for the
group instead of one per request. If that fails, each request sends its own, as without grouping.

The leader writes one group and hands the lead to the first request still waiting, so nobody
writes for others indefinitely. It hands it on as soon as its group's commit is done, while it
waits for that commit to be durable (the flush barrier): the next group's statements then
overlap that wait, and may build on the committed group (a later transaction is later in the
write-ahead log, so a crash cannot keep it and lose the earlier one). If a group's transaction
fails, nothing of it was kept (one transaction), and each of its requests writes its submission
alone, as a group of one, so that one bad submission cannot make the others fail: a request's
answer is that of its own write.

Rows are inserted sorted by sender and deduplication key, so two groups racing for the same key
lock it in the same order; a repeat of a key (even inside one group) inserts nothing and is
answered with the earlier submission, as without grouping.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, text

from filing_registry import Act, Executor, Pending, append_and_commit

if TYPE_CHECKING:
    from intake.accept import Send, Settled

log = logging.getLogger(__name__)

#: the most submissions written in one transaction
MAX_GROUP = 32


@dataclass(eq=False)
class Job:
    """One submission's rows, waiting to be written."""

    row: dict[str, Any]  # the submission's columns
    files: list[dict[str, Any]]  # its files' columns
    lines: list[dict[str, Any]]  # its status lines: state, actor and note
    stage: str  # its first pipeline message
    act: Act  # its audit entry
    #: what intake's settle hook did for it (written after the rows, see intake.accept.Settled)
    settled: Settled | None = None
    #: how its first message is sent (by the group's writer, see :func:`send_group`), and the
    #: form's bytes to send along with it
    send: Send | None = None
    form: bytes | None = field(default=None, repr=False)
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # this job's thread writes the next group
    written: bool = False
    outbox_id: int | None = None  # None once written: the sender had used the key before
    sent: bool = False  # its first message was sent with its group's
    error: BaseException | None = None


class GroupCommit:
    """The intake writer of one engine (see the module documentation)."""

    def __init__(self, engine: Engine, max_group: int = MAX_GROUP) -> None:
        self.engine = engine
        self.max_group = max_group
        self._lock = threading.Lock()
        self._queue: deque[Job] = deque()
        self._leading = False
        #: groups written and submissions in them (for the tests and the benchmark)
        self.groups = 0
        self.written = 0

    def write(self, job: Job) -> int | None:
        """Write ``job`` durably (in a group, or alone after its group failed); its first
        message's outbox id, or None when the sender used the key before."""
        with self._lock:
            self._queue.append(job)
            if not self._leading:
                self._leading = job.lead = True
        while not job.written and job.error is None:
            if job.lead:
                self._write_group()
            else:  # the flags are what count; the timeout only guards against a lost wake-up
                job.done.wait(0.5)
                job.done.clear()
        if job.error is not None:
            return write_group(self.engine, [job])[id(job)]
        return job.outbox_id

    def _write_group(self) -> None:
        with self._lock:
            group = [self._queue.popleft() for _ in range(min(len(self._queue), self.max_group))]
        handed = False

        def hand_on() -> None:
            """Hand the lead on: the first one waiting writes the next group. Called once this
            group's commit is done (the next group may then build on it), while this one waits
            for its durability, or at the latest when this group is finished."""
            nonlocal handed
            if handed:
                return
            handed = True
            with self._lock:
                if self._queue:
                    following = self._queue[0]
                    following.lead = True
                    following.done.set()
                else:
                    self._leading = False

        try:
            ids = write_group(self.engine, group, committed=hand_on)
        except BaseException as exc:  # noqa: BLE001 - each job then writes alone and reports
            for job in group:
                job.error = exc
        else:
            with self._lock:
                self.groups += 1
                self.written += len(group)
            for job in group:
                job.outbox_id = ids[id(job)]
                job.written = True
            send_group(group)
        finally:
            hand_on()
            for job in group:
                job.lead = False
                job.done.set()


#: the rows of a group of new submissions in one statement: each submission unless its sender
#: used its key before, with its files, status lines and first outbox message
_INSERT_GROUP = text(
    """
WITH x AS (
    SELECT * FROM jsonb_to_recordset(CAST(:subs AS JSONB)) AS x (id text, channel text,
        sender text, sender_name text, dedup_key text, idempotency_key text,
        payload_sha256 text, received_at timestamptz, updated_at timestamptz, state text,
        confirms_reference text, channel_data text, timestamp_token text, form_type text,
        form_version text, subject text, validation text, verification text, stage text)
), s AS (
    INSERT INTO submissions (id, channel, sender, sender_name, dedup_key, idempotency_key,
        payload_sha256, received_at, updated_at, state, confirms_reference, channel_data,
        timestamp_token, form_type, form_version, subject, validation, verification)
    SELECT id, channel, sender, sender_name, dedup_key, idempotency_key, payload_sha256,
        received_at, updated_at, state, confirms_reference, CAST(channel_data AS JSON),
        decode(timestamp_token, 'hex'), form_type, form_version, subject,
        CAST(validation AS JSON), CAST(verification AS JSON)
    FROM x ORDER BY sender, dedup_key
    ON CONFLICT (sender, dedup_key) DO NOTHING
    RETURNING id
), f AS (
    INSERT INTO submission_files (submission_id, position, role, name, size, media_type,
        declared_media_type, sha256, storage_key)
    SELECT s.id, y.position, y.role, y.name, y.size, y.media_type, y.declared_media_type,
        y.sha256, y.storage_key
    FROM s JOIN jsonb_to_recordset(CAST(:files AS JSONB)) AS y (submission_id text,
        position int, role text, name text, size bigint, media_type text,
        declared_media_type text, sha256 text, storage_key text) ON y.submission_id = s.id
    ORDER BY s.id, y.position
), e AS (
    INSERT INTO status_events (submission_id, at, state, actor, note)
    SELECT s.id, x.received_at, z.state, z.actor, z.note
    FROM s JOIN x ON x.id = s.id
        JOIN jsonb_to_recordset(CAST(:lines AS JSONB)) AS z (submission_id text, n int,
            state text, actor text, note text) ON z.submission_id = s.id
    ORDER BY s.id, z.n
)
INSERT INTO outbox (submission_id, stage, created_at)
SELECT s.id, x.stage, x.received_at FROM s JOIN x ON x.id = s.id
RETURNING submission_id, id
"""
)


def record_settled(
    executor: Executor, new: Sequence[tuple[Act, Settled | None]]
) -> tuple[list[Act], list[Pending]]:
    """What the settle hooks did for the new submissions of a transaction, written after their
    rows: the settled ones prepare together (e.g. their reference numbers, in order, in one
    statement), then each records (e.g. its journal entry). Returns the audit entries (each
    submission's own, then its hook's) and the statements to send with the commit."""
    settled = [s for _act, s in new if s is not None]
    if settled:
        settled[0].prepare(executor, settled)
    acts: list[Act] = []
    pending: list[Pending] = []
    for act, s in new:
        acts.append(act)
        if s is not None:
            acts.extend(s.record(executor, pending))
    return acts, pending


def send_group(group: Sequence[Job]) -> None:
    """Send the first messages of the new submissions of a durable ``group``: one call per
    ``send`` (all of a process's requests normally share one). A failure is logged and leaves
    those jobs unsent, for their requests to send themselves."""
    batches: dict[Send, tuple[list[Job], list[tuple[int, str, str]], dict[str, bytes]]] = {}
    for job in group:
        if job.send is None or job.outbox_id is None:
            continue
        jobs, messages, forms = batches.setdefault(job.send, ([], [], {}))
        jobs.append(job)
        messages.append((job.outbox_id, job.stage, job.row["id"]))
        if job.form is not None:
            forms[job.row["id"]] = job.form
    for send, (jobs, messages, forms) in batches.items():
        try:
            send(messages, forms)
        except Exception:  # noqa: BLE001 - each request then sends its own
            log.warning(
                "could not send a group's first messages; each sends its own", exc_info=True
            )
            continue
        for job in jobs:
            job.sent = True


def _sub_json(job: Job) -> dict[str, Any]:
    row = job.row
    token = row.get("timestamp_token")
    return {
        **row,
        "received_at": row["received_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
        "channel_data": _json_text(row["channel_data"]),
        "timestamp_token": None if token is None else token.hex(),
        "validation": _json_text(row.get("validation")),
        "verification": _json_text(row.get("verification")),
        "stage": job.stage,
    }


def _json_text(value: Any) -> str | None:
    """A JSON column's value as the text the statement casts (SQL NULL for None)."""
    return None if value is None else json.dumps(value)


def write_group(
    engine: Engine, group: Sequence[Job], *, committed: Callable[[], None] | None = None
) -> dict[int, int | None]:
    """Write ``group`` in one transaction, durably; for each job (by ``id(job)``) its first
    message's outbox id, or None when its sender used its key before (nothing written for it).
    ``committed``: called once the commit is done, before its durability is awaited.
    """
    subs = [_sub_json(job) for job in group]
    files = [dict(f, submission_id=job.row["id"]) for job in group for f in job.files]
    lines = [dict(line, n=n) for job in group for n, line in enumerate(job.lines)]
    with engine.begin() as conn:
        params = {"subs": json.dumps(subs), "files": json.dumps(files), "lines": json.dumps(lines)}
        inserted: dict[str, int] = {r[0]: r[1] for r in conn.execute(_INSERT_GROUP, params)}
        new = [(job.act, job.settled) for job in group if job.row["id"] in inserted]
        acts, pending = record_settled(conn, new)
        if acts:  # last, and the commit with it: the chain head stays locked until the commit
            append_and_commit(conn, acts, first=pending, entries=False, committed=committed)
    out: dict[int, int | None] = {}
    for job in group:
        outbox_id = inserted.get(job.row["id"])
        out[id(job)] = None if outbox_id is None else int(outbox_id)
    return out


_WRITERS_LOCK = threading.Lock()


def writer_for(engine: Engine) -> GroupCommit:
    """The group-commit writer of ``engine`` (one per engine and process)."""
    writer: GroupCommit | None = getattr(engine, "_podatelna_group_commit", None)
    if writer is None:
        with _WRITERS_LOCK:
            writer = getattr(engine, "_podatelna_group_commit", None)
            if writer is None:
                writer = GroupCommit(engine)
                engine._podatelna_group_commit = writer  # type: ignore[attr-defined]
    return writer
