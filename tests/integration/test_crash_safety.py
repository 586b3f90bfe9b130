"""Crash safety: a worker killed (SIGKILL) at a failpoint loses nothing, numbers nothing twice.

Set-up per case: a fresh PostgreSQL database, a Redis broker namespace of its own (short lease,
fast sweeper), a filesystem object store in a temporary directory shared by the test process and
the workers. The test files a few submissions in its own process, starts ``podatelna worker``
with one failpoint armed and waits until the worker kills itself there; then it starts a worker
without failpoints and waits until every submission is final. Afterwards: no submission lost,
each completed one has exactly one filing, the reference numbers are 1..n without gap or
duplicate, every filing has a receipt that exists in the store, and the audit chain verifies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import schemas
from filing_registry import Filing, Submission, verify_chain
from intake import Incoming, IncomingFile, Sender
from podatelna.app import App
from podatelna.config import load_settings
from podatelna.pipeline.runner import wait_for
from podatelna.service import file_submission
from tests.dbs import fresh_postgres_database
from tests.services import REDIS_URL, drop_redis_namespace, require_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FAILPOINTS = (
    "validate:before_commit",
    "verify:before_commit",
    "register:after_claim",
    "register:after_number",
    "receipt:before_store",
    "receipt:before_commit",
)
#: (sample, expected final state); all valid forms may be filed unsigned
SAMPLES = (
    ("obecne-podani", "completed"),
    ("parkovani", "completed"),
    ("poplatek-zmena", "completed"),
    ("obecne-podani", "completed"),
    ("invalid-obecne-podani-chybi-vec", "rejected"),
)
WORKER = Path(sys.executable).parent / "podatelna"
CRASH_TIMEOUT = 20.0
FINISH_TIMEOUT = 25.0


def _redis_host_port(url: str) -> tuple[str, int]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 6379


class Worker:
    """A ``podatelna worker`` subprocess whose output goes to a log file."""

    def __init__(self, env: dict[str, str], cwd: Path, log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(WORKER), "worker"],
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait(10) is None:
                self.proc.kill()
                self.proc.wait(10)

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return f"--- worker log {self.log_path} (tail) ---\n" + "\n".join(text[-lines:])


@pytest.fixture
def crash_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The settings environment of one case: fresh PostgreSQL, own Redis namespace, shared dir."""
    require_port("Redis", *_redis_host_port(REDIS_URL))
    namespace = f"crash{uuid.uuid4().hex[:10]}"
    with fresh_postgres_database() as url:
        try:
            yield {
                "PODATELNA_DATA_DIR": str(tmp_path / "data"),
                "PODATELNA_DATABASE__URL": url,
                "PODATELNA_DATABASE__POOL_SIZE": "4",
                "PODATELNA_BROKER__KIND": "redis",
                "PODATELNA_BROKER__URL": REDIS_URL,
                "PODATELNA_BROKER__NAMESPACE": namespace,
                "PODATELNA_BROKER__LEASE_SECONDS": "3",
                "PODATELNA_BROKER__SWEEP_INTERVAL_SECONDS": "1",
                # every submission goes through the workers' stages, which are what is killed
                # (intake's own registration: test_intake_killed_while_registering_...)
                "PODATELNA_BROKER__REGISTER_AT_INTAKE": "false",
            }
        finally:
            drop_redis_namespace(namespace)


def _file(app: App, sample: str, n: int) -> str:
    with schemas.sample_path(sample).open("rb") as form:
        acc = file_submission(
            app,
            Incoming(
                channel="portal",
                sender=Sender(f"obcan{n}@example.cz", f"Občan {n}"),
                form=IncomingFile(f"{sample}.xml", form, role="form"),
                idempotency_key=f"crash-{n}-{uuid.uuid4().hex}",
            ),
        )
    assert acc.created
    return acc.submission_id


def _process_env(settings_env: dict[str, str], **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PODATELNA_")}
    return {**base, **settings_env, **extra}


@pytest.mark.parametrize("point", FAILPOINTS)
def test_worker_killed_at_failpoint_loses_nothing(
    point: str, crash_env: dict[str, str], tmp_path: Path
) -> None:
    settings = load_settings(environ=crash_env)
    assert settings.failpoints == ()
    app = App(settings)
    workers: list[Worker] = []
    try:
        app.migrate()
        app.ensure_buckets()
        ids = {_file(app, sample, n): want for n, (sample, want) in enumerate(SAMPLES)}

        crashing = Worker(
            _process_env(crash_env, PODATELNA_FAILPOINTS=point), tmp_path, tmp_path / "w1.log"
        )
        workers.append(crashing)
        code = crashing.wait(CRASH_TIMEOUT)
        assert code == -signal.SIGKILL, (
            f"the worker with failpoint {point} did not die by SIGKILL "
            f"(exit status {code}).\n{crashing.log_tail()}"
        )
        assert f"failpoint {point} reached" in crashing.log_path.read_text(errors="replace")

        healthy = Worker(_process_env(crash_env), tmp_path, tmp_path / "w2.log")
        workers.append(healthy)
        deadline = time.monotonic() + FINISH_TIMEOUT
        states = {
            sid: wait_for(app, sid, timeout=max(0.1, deadline - time.monotonic())) for sid in ids
        }
        assert states == ids, f"not every submission finished as expected.\n{healthy.log_tail()}"
        assert healthy.proc.poll() is None, f"the second worker died.\n{healthy.log_tail()}"
        _check_invariants(app, ids)
    finally:
        for w in workers:
            w.stop()
        app.close()


def _check_invariants(app: App, ids: dict[str, str]) -> None:
    completed = sorted(sid for sid, want in ids.items() if want == "completed")
    with app.sessions() as session:
        subs = session.execute(select(Submission.id, Submission.state)).all()
        assert {sid: state for sid, state in subs} == ids, "a submission was lost or added"
        per_submission = dict(
            session.execute(
                select(Filing.submission_id, func.count(Filing.id)).group_by(Filing.submission_id)
            ).all()
        )
        assert per_submission == {sid: 1 for sid in completed}
        filings: list[Any] = list(session.execute(select(Filing)).scalars())
        assert sorted(f.seq for f in filings) == list(range(1, len(completed) + 1))
        assert len({f.reference for f in filings}) == len(filings)
        for f in filings:
            assert f.receipt_key, f"filing {f.reference} has no receipt key"
            assert app.store.exists("receipts", f.receipt_key), (
                f"the receipt {f.receipt_key} of {f.reference} is not in the store"
            )
        report = verify_chain(session)
        assert report.ok, report.to_dict()


@pytest.mark.parametrize(
    ("point", "kept"),
    [
        ("register:at_intake", False),  # its number taken, nothing committed
        ("intake:before_dispatch", True),  # committed registered, its receipt message not sent
    ],
)
def test_intake_killed_while_registering_keeps_all_or_nothing(
    point: str, kept: bool, crash_env: dict[str, str], tmp_path: Path
) -> None:
    """``podatelna submit`` registering a plainly unsigned form at intake, killed by SIGKILL:
    before its commit nothing is kept (no submission, no number used); after it, the
    submission is registered and its receipt follows (the sweeper sends the message). Either
    way the client, with no answer, files again with its key and gets one submission, numbered
    once, completed by a worker."""
    at_intake = {**crash_env, "PODATELNA_BROKER__REGISTER_AT_INTAKE": "true"}
    app = App(load_settings(environ=at_intake))
    form = schemas.sample_path("obecne-podani")
    key = f"crash-intake-{uuid.uuid4().hex}"
    sender = "obcan@example.cz"
    try:
        app.migrate()
        app.ensure_buckets()
        proc = subprocess.run(
            [str(WORKER), "submit", str(form), "--sender", sender, "--idempotency-key", key],
            env=_process_env(at_intake, PODATELNA_FAILPOINTS=point),
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=120,
        )
        assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
        with app.sessions() as session:
            states = session.execute(select(Submission.state)).scalars().all()
            numbered = session.execute(select(func.count()).select_from(Filing)).scalar_one()
        assert states == (["registered"] if kept else [])
        assert numbered == (1 if kept else 0)

        with form.open("rb") as f:
            acc = file_submission(
                app,
                Incoming(
                    "cli",
                    Sender(sender),
                    IncomingFile(form.name, f, role="form"),
                    idempotency_key=key,
                ),
            )
        assert acc.created is not kept and acc.state == "registered"
        healthy = Worker(_process_env(crash_env), tmp_path, tmp_path / "w.log")
        try:
            state = wait_for(app, acc.submission_id, timeout=FINISH_TIMEOUT)
            assert state == "completed", healthy.log_tail()
        finally:
            healthy.stop()
        _check_invariants(app, {acc.submission_id: "completed"})
    finally:
        app.close()
