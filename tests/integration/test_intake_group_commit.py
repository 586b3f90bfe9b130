"""Group commit of intake on PostgreSQL (intake.group_commit): submissions arriving together
share a transaction, each is answered only with its own outcome, repeats stay repeats, and a
group that fails leaves every submission to be written alone."""

from __future__ import annotations

import io
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from dramatiq import Message
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from filing_registry import (
    Act,
    AuditEntry,
    Filing,
    OutboxMessage,
    StatusEvent,
    Submission,
    SubmissionFile,
    verify_chain,
)
from intake import Acceptance, Incoming, IncomingFile, Sender
from intake.group_commit import GroupCommit, Job, write_group, writer_for
from podatelna.app import App
from podatelna.config import load_settings
from podatelna.service import describe, file_submission
from schemas import sample_path
from tests.threads import run_together

pytestmark = pytest.mark.integration

FORM = sample_path("obecne-podani").read_bytes()
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _app(tmp_path: Path, pg_url: str, *, at_intake: bool) -> App:
    a = App(
        load_settings(
            environ={},
            overrides={
                "data_dir": str(tmp_path / "var"),
                "database": {"url": pg_url},
                "broker": {"register_at_intake": at_intake},
            },
        )
    )
    a.migrate()
    a.ensure_buckets()
    return a


@pytest.fixture
def app(tmp_path: Path, pg_url: str) -> Iterator[App]:
    a = _app(tmp_path, pg_url, at_intake=False)
    yield a
    a.close()


def _file(app: App, key: str) -> Acceptance:
    """The sample form filed by one sender with ``key``."""
    return file_submission(
        app,
        Incoming(
            "cli",
            Sender("jana@example.cz"),
            IncomingFile("form.xml", io.BytesIO(FORM), role="form"),
            idempotency_key=key,
        ),
    )


def _count(app: App, model: Any) -> int:
    with app.sessions() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.mark.parametrize("at_intake", [False, True], ids=["received", "registered-at-intake"])
def test_concurrent_submissions_share_transactions_and_keep_their_own_answers(
    tmp_path: Path, pg_url: str, at_intake: bool
) -> None:
    """12 threads file their own keys and shared ones. With ``broker.register_at_intake`` each
    new submission is also validated, verified and registered in its group's transaction:
    every number of the year exactly once, in a chain that verifies."""
    app = _app(tmp_path, pg_url, at_intake=at_intake)
    try:
        _file_concurrently(app, at_intake)
    finally:
        app.close()


def _file_concurrently(app: App, at_intake: bool) -> None:
    threads_n, per_thread, shared_keys = 12, 8, 4
    answers: list[tuple[str, str, bool]] = []  # (key, id, created)
    lock = threading.Lock()

    def sender(n: int) -> None:
        for i in range(per_thread):
            # each thread files its own keys, and every thread files the shared ones too
            keys = [f"own-{n}-{i}"] + ([f"shared-{i}"] if i < shared_keys else [])
            for key in keys:
                got = _file(app, key)
                with lock:
                    answers.append((key, got.submission_id, got.created))

    run_together(sender, [(n,) for n in range(threads_n)], timeout=180)

    by_key: dict[str, set[str]] = {}
    created: dict[str, int] = {}
    for key, sid, was_created in answers:
        by_key.setdefault(key, set()).add(sid)
        created[key] = created.get(key, 0) + int(was_created)
    assert all(len(ids) == 1 for ids in by_key.values())  # a key always answers one submission
    assert all(n == 1 for n in created.values())  # and it was created exactly once
    new = threads_n * per_thread + shared_keys
    assert len(by_key) == new
    # every submission complete: its file, its status lines, its message, its audit entries
    assert _count(app, Submission) == new
    assert _count(app, SubmissionFile) == new
    # received; at intake also validated, verified, registered, awaiting confirmation
    assert _count(app, StatusEvent) == (5 if at_intake else 1) * new
    assert _count(app, OutboxMessage) == new
    with app.sessions() as s:
        actions = dict(
            s.execute(select(AuditEntry.action, func.count()).group_by(AuditEntry.action)).all()
        )
        states = dict(
            s.execute(select(Submission.state, func.count()).group_by(Submission.state)).all()
        )
        stages = set(s.execute(select(OutboxMessage.stage)).scalars())
        numbers = sorted(s.execute(select(Filing.seq)).scalars())
        report = verify_chain(s)
    assert report.ok, report.summary()
    if at_intake:
        assert states == {"registered": new}
        assert stages == {"receipt"}
        assert numbers == list(range(1, new + 1))  # no gap, no duplicate
        assert actions == {
            "submission.received": new,
            "submission.validated": new,
            "submission.verified": new,
            "filing.registered": new,
        }
        assert all(describe(app, sid)["reference"] for ids in by_key.values() for sid in ids)
    else:
        assert states == {"received": new}
        assert stages == {"validate"}
        assert numbers == []
        assert actions == {"submission.received": new}
    writer = writer_for(app.engine)
    assert writer.written == len(answers)
    assert writer.groups < writer.written  # submissions did share transactions
    # each new submission's first message was sent exactly once, most with their group's
    stage = "receipt" if at_intake else "validate"
    queue = app.pipeline.broker.queues[app.pipeline.actors[stage].queue_name]
    sent = [Message.decode(m) for m in list(queue.queue)]
    carried = [i for m in sent for i in [m.args[0], *(x[0] for x in m.kwargs.get("more", []))]]
    assert sorted(carried) == sorted(sid for ids in by_key.values() for sid in ids)
    assert len(sent) < new


def _job(sender: str, key: str) -> Job:
    sid = uuid.uuid4().hex
    row = {
        "id": sid,
        "channel": "cli",
        "sender": sender,
        "sender_name": "",
        "dedup_key": f"key:{key}",
        "idempotency_key": key,
        "payload_sha256": "ab" * 32,
        "received_at": T0,
        "updated_at": T0,
        "state": "received",
        "confirms_reference": None,
        "channel_data": {"note": "ž", "b": 1, "a": 2},
    }
    files = [
        {
            "position": 0,
            "role": "form",
            "name": "form.xml",
            "size": 3,
            "media_type": "application/xml",
            "declared_media_type": None,
            "sha256": "cd" * 32,
            "storage_key": f"raw/{sid}",
        }
    ]
    lines = [{"submission_id": sid, "state": "received", "actor": sender, "note": "via cli"}]
    act = Act(T0, sender, "submission.received", "submission", sid, sender, {"channel": "cli"})
    return Job(row, files, lines, "validate", act)


def test_a_key_used_twice_in_one_group_is_written_once(app: App) -> None:
    first, twin, other = _job("a@x.cz", "k1"), _job("a@x.cz", "k1"), _job("b@x.cz", "k1")
    ids = write_group(app.engine, [first, twin, other])
    assert ids[id(first)] is not None and ids[id(other)] is not None
    assert ids[id(twin)] is None  # the sender had used the key: nothing written for it
    with app.sessions() as s:
        rows = s.execute(select(Submission.id, Submission.channel_data)).all()
    assert {r[0] for r in rows} == {first.row["id"], other.row["id"]}
    # the channel data is kept as given (not re-encoded through jsonb)
    assert all(r[1] == {"note": "ž", "b": 1, "a": 2} for r in rows)
    assert _count(app, OutboxMessage) == 2


def _queue_behind_a_busy_leader(writer: GroupCommit, jobs: list[Job]) -> list[threading.Thread]:
    """Start a request per job; they queue and wait while a leader is busy (as flagged)."""
    writer._leading = True
    threads = [threading.Thread(target=writer.write, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(writer._queue) < len(jobs) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(writer._queue) == len(jobs)
    return threads


def test_a_group_sends_its_first_messages_together_once_they_are_durable(app: App) -> None:
    writer = GroupCommit(app.engine)
    calls: list[tuple[list[tuple[int, str, str]], dict[str, bytes], int]] = []

    def send(messages: Any, forms: Any) -> None:
        with app.sessions() as s:  # committed before they are sent
            committed = s.execute(select(func.count()).select_from(Submission)).scalar_one()
        calls.append((list(messages), dict(forms), committed))

    jobs = [_job("a@x.cz", f"k{i}") for i in range(3)]
    for i, job in enumerate(jobs):
        job.send = send
        job.form = b"<f/>" if i == 1 else None
    repeat = _job("a@x.cz", "k0")  # a repeat of the first key: written as nothing, sends nothing
    repeat.send = send
    threads = _queue_behind_a_busy_leader(writer, [*jobs, repeat])
    writer._write_group()  # as the busy leader would: all in one group
    for t in threads:
        t.join(30)
    assert len(calls) == 1
    messages, forms, committed = calls[0]
    with app.sessions() as s:
        outbox = s.execute(select(OutboxMessage.id, OutboxMessage.submission_id)).all()
    assert sorted(messages) == sorted((i, "validate", sid) for i, sid in outbox)
    assert {m[2] for m in messages} == {job.row["id"] for job in jobs}
    assert forms == {jobs[1].row["id"]: b"<f/>"}
    assert committed == 3
    assert all(job.sent for job in jobs) and not repeat.sent


def test_a_group_that_cannot_send_leaves_each_request_to_send_its_own(app: App) -> None:
    """The broker refusing the group's messages refuses nobody's submission: written, not sent
    (the request then sends its own, see podatelna.service, and the outbox keeps it anyway)."""
    writer = GroupCommit(app.engine)

    def send(messages: Any, forms: Any) -> None:
        raise ConnectionError("the broker is not reachable")

    jobs = [_job("a@x.cz", f"k{i}") for i in range(2)]
    for job in jobs:
        job.send = send
    threads = _queue_behind_a_busy_leader(writer, jobs)
    writer._write_group()
    for t in threads:
        t.join(30)
    assert all(job.written and job.outbox_id and not job.sent for job in jobs)
    assert _count(app, OutboxMessage) == 2


def test_a_request_whose_group_could_not_send_sends_its_own(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatch = app.pipeline.dispatch
    refused: list[int] = []

    def once_refusing(messages: Any, **kw: Any) -> int:
        if not refused:
            refused.append(len(messages))
            raise ConnectionError("the broker is not reachable")
        return dispatch(messages, **kw)

    monkeypatch.setattr(app.pipeline, "dispatch", once_refusing)
    acc = _file(app, "k")
    assert refused == [1] and not acc.sent
    queue = app.pipeline.broker.queues[app.pipeline.actors["validate"].queue_name]
    assert [Message.decode(m).args for m in list(queue.queue)] == [(acc.submission_id,)]


def test_a_failed_group_leaves_each_submission_to_be_written_alone(app: App) -> None:
    """One submission the database refuses (a sender longer than the column) makes its group's
    transaction fail: the others are then written alone and acknowledged; only the bad one
    gets the error."""
    writer = GroupCommit(app.engine)
    good, bad = _job("good@x.cz", "g"), _job("x" * 400 + "@x.cz", "b")
    writer._leading = True  # a leader is busy: both requests queue and wait
    results: dict[str, Any] = {}

    def request(name: str, job: Job) -> None:
        try:
            results[name] = writer.write(job)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            results[name] = exc

    threads = [
        threading.Thread(target=request, args=(name, job))
        for name, job in (("bad", bad), ("good", good))
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(writer._queue) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(writer._queue) == 2
    writer._write_group()  # as the busy leader would: both in one group, which fails
    for t in threads:
        t.join(30)
    assert isinstance(results["bad"], DBAPIError)
    assert isinstance(results["good"], int)
    assert writer.groups == 0  # the failed group wrote nothing
    with app.sessions() as s:
        assert s.execute(select(Submission.sender)).scalars().all() == ["good@x.cz"]
    assert not writer._leading and not writer._queue
