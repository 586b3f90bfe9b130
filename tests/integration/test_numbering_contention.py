"""Reference numbers under contention: 4 processes register 500 filings each, concurrently.

Each registration is its own transaction (submission row + journal entry + number), as in the
pipeline. Afterwards the numbers of the year must be exactly 1..2000: no gap, no duplicate, and
every submission has exactly one filing. Run against a fresh PostgreSQL database and a SQLite
file in WAL mode (the embedded default).
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from filing_registry import (
    Filing,
    Registration,
    Submission,
    make_engine,
    make_sessionmaker,
    migrate,
    register,
    transaction,
)
from tests.dbs import new_submission, sqlite_url

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WORKERS = 4
PER_WORKER = 500
TOTAL = WORKERS * PER_WORKER
OFFICE = "MMO"
RECEIVED = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
REG = Registration(office=OFFICE, pattern="{office}/{seq:05d}/{year}")


def _worker(url: str, start: Any, count: int, out: Any) -> None:
    """Register ``count`` filings, one transaction each; put the numbers obtained on ``out``."""
    engine = make_engine(url, pool_size=1)
    sessions = make_sessionmaker(engine)
    seqs: list[int] = []
    try:
        start.wait(60)
        for _ in range(count):
            with transaction(sessions) as session:
                sub = new_submission(RECEIVED)
                session.add(sub)
                seqs.append(register(session, sub, REG, now=RECEIVED).seq)
        out.put(("ok", seqs))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, not lost in the child
        out.put(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        engine.dispose()


def _contend(url: str) -> tuple[list[list[int]], float]:
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(url, start, PER_WORKER, out)) for _ in range(WORKERS)
    ]
    for p in procs:
        p.start()
    time.sleep(0.5)  # let the children import before the start signal
    began = time.perf_counter()
    start.set()
    results = [out.get(timeout=120) for _ in procs]
    elapsed = time.perf_counter() - began
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    errors = [detail for status, detail in results if status != "ok"]
    assert not errors, errors
    return [detail for _, detail in results], elapsed


def _check(url: str, per_worker: list[list[int]]) -> None:
    # what the workers were told
    assert sorted(s for seqs in per_worker for s in seqs) == list(range(1, TOTAL + 1))
    for seqs in per_worker:
        assert seqs == sorted(seqs)  # one worker's numbers increase
    # the workers really ran at the same time: someone's numbers are interleaved with another's
    assert any(seqs[-1] - seqs[0] + 1 > len(seqs) for seqs in per_worker)
    # what the database holds
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            stored = (
                session.execute(
                    select(Filing.seq)
                    .where(Filing.office == OFFICE, Filing.year == 2026)
                    .order_by(Filing.seq)
                )
                .scalars()
                .all()
            )
            assert list(stored) == list(range(1, TOTAL + 1))
            assert session.scalar(select(func.count()).select_from(Submission)) == TOTAL
            per_submission = session.execute(
                select(Submission.id, func.count(Filing.id))
                .outerjoin(Filing, Filing.submission_id == Submission.id)
                .group_by(Submission.id)
            ).all()
            assert len(per_submission) == TOTAL
            assert {n for _, n in per_submission} == {1}
            refs = session.execute(select(Filing.reference)).scalars().all()
            assert len(set(refs)) == TOTAL
            assert f"{OFFICE}/{TOTAL:05d}/2026" in refs
    finally:
        engine.dispose()


def test_postgres_numbers_are_gapless_under_contention(pg_url: str) -> None:
    per_worker, elapsed = _contend(pg_url)
    print(f"PostgreSQL: {TOTAL} registrations by {WORKERS} processes in {elapsed:.1f} s")
    _check(pg_url, per_worker)


def test_sqlite_wal_numbers_are_gapless_under_contention(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path, "contention.sqlite3")
    per_worker, elapsed = _contend(url)
    print(f"SQLite (WAL): {TOTAL} registrations by {WORKERS} processes in {elapsed:.1f} s")
    _check(url, per_worker)
    conn = sqlite3.connect(tmp_path / "contention.sqlite3")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()
