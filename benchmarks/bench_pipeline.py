"""Submissions per second from intake to *registered*, next to the bare library calls.

    .venv/bin/python -m benchmarks.bench_pipeline [N] [--production | --production-only]
        [--rounds=R]

Embedded defaults (SQLite WAL, in-process broker, directory store) always; with
``--production`` also PostgreSQL + Redis + S3 (a SeaweedFS server is started for the run).
The pipeline runs intake (8 client threads) and the validate → verify → register stages in
workers: in the intake process on embedded defaults; in production in
``BENCH_WORKER_PROCESSES`` worker processes (default 2), as ``podatelna worker`` runs beside
the web server, with ``BENCH_WORKER_THREADS`` threads each (default 4). Each backend runs twice:
with ``broker.register_at_intake`` (the default: intake validates, verifies and registers the
plainly unsigned form in the transaction that records it) and without it (every submission
through the validate stage in a worker). Every submission is the sample general filing with its
subject numbered, so each has bytes of its own. The bare run does, per submission, what those
steps must at least do: one lxml parse + XSD validation, one object put and one INSERT, from 8
threads, on the same bytes; in production also with the put the submissions bucket gets
(versioned bucket, conditional write), to tell the storage policy's cost from the pipeline's.
The bare runs are measured before the first mode and after each, and each mode's ratio is
against the mean of the bare runs just before and just after it (this machine's speed drifts).
With ``--rounds=R`` all that is repeated R times, and each mode's median ratio is printed too.
All are printed with the ratio. Not part of the test suite.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import Column, MetaData, String, Table, create_engine, func, select

import schemas
from filing_registry import Submission
from intake import Incoming, IncomingFile, Sender
from intake.group_commit import writer_for
from podatelna.app import App
from podatelna.config import load_settings
from podatelna.service import file_submission

THREADS = 8
#: worker threads per worker (process)
WORKER_THREADS = int(os.environ.get("BENCH_WORKER_THREADS", "4"))
#: worker processes in the production run (0: workers in the intake process)
WORKER_PROCESSES = int(os.environ.get("BENCH_WORKER_PROCESSES", "2"))
FORM = schemas.sample_path("obecne-podani").read_bytes()


def form_for(run: str, i: int) -> bytes:
    """The sample form with its subject numbered: every submission (of every run, pipeline and
    bare) has bytes of its own, as real ones do, so every object put is a new object."""
    return FORM.replace(b"</vec>", f" ({run}/{i})</vec>".encode())


STAGES = ("validate", "verify", "register")


def pipeline_rate(
    app: App, n: int, *, overrides: dict[str, Any] | None = None, processes: int = 0
) -> float:
    """Submissions per second from intake (8 client threads, this process) to *registered*.

    Workers run in this process (``processes=0``: the embedded broker needs that) or in
    ``processes`` worker processes built from the same ``overrides``, as ``podatelna worker``
    runs beside a web server in production.
    """
    app.migrate()
    app.ensure_buckets()
    workers: list[subprocess.Popen[bytes]] = []
    if processes:
        for _ in range(processes):
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "benchmarks.bench_pipeline", "--worker"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    env={**os.environ, "BENCH_OVERRIDES": json.dumps(overrides)},
                )
            )
        for w in workers:  # started up (imports, connections) before anything is measured
            assert w.stdout is not None and w.stdout.readline() == b"ready\n"
    else:
        app.pipeline.start_workers(WORKER_THREADS, sweeper=False, stages=STAGES)
    run = uuid.uuid4().hex[:8]
    mode = "at intake" if app.settings.broker.register_at_intake else "stage by stage"
    print(f"{app.engine.dialect.name}, {mode}:", file=sys.stderr)

    def one(i: int) -> None:
        file_submission(
            app,
            Incoming(
                "cli",
                Sender(f"bench{i}@example.cz"),
                IncomingFile("form.xml", io.BytesIO(form_for(run, i)), role="form"),
                idempotency_key=f"{run}-{i}",
            ),
        )

    before_registered = ("received", "validated", "verified")

    def pending() -> bool:
        """Whether a submission is still short of *registered*: an index lookup on the
        state (a count of the finished ones would scan them all, again and again, and spend
        the database's CPU that the pipeline is being measured on)."""
        with app.sessions() as s:
            return (
                s.execute(
                    select(Submission.id).where(Submission.state.in_(before_registered)).limit(1)
                ).first()
                is not None
            )

    def finished_at() -> float:
        """When the last of the run reached its state (the stage's own clock, UTC), so that
        the figure does not depend on how often :func:`pending` looks."""
        with app.sessions() as s:
            last = s.execute(
                select(func.max(Submission.updated_at)).where(
                    Submission.idempotency_key.like(f"{run}-%")
                )
            ).scalar_one()
        return float(last.timestamp())

    try:
        # warm up (schema compilation, connections, worker start-up) until all are registered
        for i in range(5):
            one(-1 - i)
        while pending():
            time.sleep(0.05)
        cpu = CpuMeter(
            {
                "intake (this process)": lambda: [os.getpid()],
                "workers": lambda: [w.pid for w in workers],
                "PostgreSQL": lambda: pids_of("postgres"),
                "Redis": lambda: pids_of("redis-server"),
                "S3 server": lambda: pids_of("weed"),
            }
        )
        wall_start = time.time()
        start = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(one, range(n)))
        accepted = time.perf_counter() - start
        print(f"  intake alone: {n / accepted:.1f}/s", file=sys.stderr)
        if app.engine.dialect.name == "postgresql":
            writer = writer_for(app.engine)
            print(
                f"  intake group commit: {writer.written} submissions in {writer.groups} "
                f"transactions ({writer.written / max(writer.groups, 1):.2f} each)",
                file=sys.stderr,
            )
        while pending():
            time.sleep(0.25)
        elapsed = finished_at() - wall_start
        cpu.report(n)
    finally:
        if processes:
            for w in workers:
                assert w.stdin is not None
                w.stdin.close()  # the worker stops when its stdin closes
            for w in workers:
                w.wait(30)
        else:
            app.pipeline.stop_workers()
    return n / elapsed


class CpuMeter:
    """CPU time used by groups of processes (by name: a function listing their pids) from its
    creation to :meth:`report`, which prints it per submission."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self.groups = groups
        self.before = {name: {p: cpu_seconds([p]) for p in pids()} for name, pids in groups.items()}

    def report(self, n: int) -> None:
        used = {
            name: sum(cpu_seconds([p]) - self.before[name].get(p, 0.0) for p in pids())
            for name, pids in self.groups.items()
        }
        print(
            "  CPU per submission: "
            + ", ".join(f"{name} {1000 * t / n:.2f} ms" for name, t in used.items() if t > 0)
            + f"; all {1000 * sum(used.values()) / n:.2f} ms",
            file=sys.stderr,
        )


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes ``pids`` so far (Linux ``/proc``; 0 for any
    that is gone or unreadable)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def pids_of(name: str) -> list[int]:
    """The processes whose command name is ``name`` (e.g. every PostgreSQL backend)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/comm"):
        try:
            if stat.read_text().strip() == name:
                out.append(int(stat.parent.name))
        except OSError:
            continue
    return out


def worker_process() -> None:
    """A worker process of the production run: validate, verify and register, until stdin
    closes."""
    logging.basicConfig(level=logging.ERROR)
    app = App(load_settings(environ={}, overrides=json.loads(os.environ["BENCH_OVERRIDES"])))
    app.pipeline.start_workers(WORKER_THREADS, sweeper=False, stages=STAGES)
    app.check_broker()
    print("ready", flush=True)
    sys.stdin.read()
    app.pipeline.stop_workers()
    app.close()


@cache
def bare_schema() -> etree.XMLSchema:
    """The sample form's XSD, compiled once for all the bare runs."""
    return etree.XMLSchema(etree.parse(str(schemas.catalogue()["obecne-podani"].xsd_path)))


def bare_rate(db_url: str, put, n: int, *, label: str = "plain put") -> float:
    schema = bare_schema()
    engine = create_engine(db_url)
    md = MetaData()
    t = Table(
        f"bare_{uuid.uuid4().hex[:8]}",
        md,
        Column("id", String(32), primary_key=True),
        Column("sha", String(64)),
    )
    md.create_all(engine)

    run = uuid.uuid4().hex[:8]

    def one(i: int) -> None:
        form = form_for(run, i)
        doc = etree.fromstring(form)
        assert schema.validate(doc)
        sha = hashlib.sha256(form).hexdigest()
        put(sha, form)
        with engine.begin() as c:
            c.execute(t.insert().values(id=uuid.uuid4().hex, sha=sha))

    print(f"bare calls ({label}):", file=sys.stderr)
    cpu = CpuMeter(
        {
            "this process": lambda: [os.getpid()],
            "PostgreSQL": lambda: pids_of("postgres"),
            "S3 server": lambda: pids_of("weed"),
        }
    )
    start = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one, range(n)))
    elapsed = time.perf_counter() - start
    cpu.report(n)
    md.drop_all(engine)
    engine.dispose()  # the bare runs repeat (see bracketed): no pool left open behind each
    return n / elapsed


def fs_put(root: Path):
    def put(name: str, data: bytes) -> None:
        p = root / name
        with open(p, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    return put


#: the two ways a plainly unsigned valid form reaches *registered*: at intake, in the
#: transaction that records it (``broker.register_at_intake``, the default), or through the
#: validate stage in a worker (the way every other submission goes)
MODES = (("registered at intake", True), ("stage by stage", False))


def report(label: str, ours: float, bare: list[float]) -> float:
    """One line: the pipeline's rate, the bare calls' (the mean of the runs just before and just
    after it) and their ratio, which it returns."""
    ref = sum(bare) / len(bare)
    runs = " / ".join(f"{b:.1f}" for b in bare)
    print(
        f"{label:<60} pipeline {ours:8.1f}/s   bare calls {ref:8.1f}/s ({runs})   "
        f"overhead ratio {ref / ours:5.2f}x",
        flush=True,
    )
    return ref / ours


def bracketed(
    pipeline: Callable[[str, bool], float],
    bares: dict[str, Callable[[], float]],
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Each kind of bare run before the first mode and after every mode, so that each mode is
    compared with the bare calls measured just before and just after it: this machine's speed
    drifts (by up to 2x within minutes), and a single bare run taken before or after all the
    pipeline runs would carry that drift into the ratio. Returns the pipeline's rate by mode
    and the bare rates by kind, in order of measurement."""
    bare: dict[str, list[float]] = {kind: [] for kind in bares}

    def measure_bare() -> None:
        for kind, run in bares.items():
            bare[kind].append(run())

    measure_bare()
    rates = {}
    for mode, at_intake in MODES:
        rates[mode] = pipeline(mode, at_intake)
        measure_bare()
    return rates, bare


def rounds_of(
    label: str,
    pipeline: Callable[[str, bool], float],
    bares: dict[str, Callable[[], float]],
    kind_labels: dict[str, str],
    rounds: int,
) -> None:
    """``rounds`` bracketed rounds (see :func:`bracketed`), each reported as it ends; then, with
    more than one, each mode's median rate and ratio over the rounds."""
    rates: dict[str, list[float]] = {}
    ratios: dict[str, list[float]] = {}
    for r in range(rounds):
        ours, bare = bracketed(pipeline, bares)
        print(f"round {r + 1} of {rounds}:", flush=True)
        for kind, runs in bare.items():
            for i, (mode, rate) in enumerate(ours.items()):
                name = f"{label}{mode}{kind_labels[kind]}"
                ratios.setdefault(name, []).append(report(name, rate, runs[i : i + 2]))
                rates.setdefault(name, []).append(rate)
    if rounds > 1:
        print(f"medians of {rounds} rounds:")
        for name, values in ratios.items():
            print(
                f"{name:<60} pipeline {statistics.median(rates[name]):8.1f}/s   "
                f"overhead ratio {statistics.median(values):5.2f}x "
                f"(from {min(values):.2f}x to {max(values):.2f}x)"
            )


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    n = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 500
    rounds = int(next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--rounds=")), "1"))
    if "--production-only" not in sys.argv:
        with tempfile.TemporaryDirectory() as tmp:

            def embedded(mode: str, at_intake: bool) -> float:
                settings = load_settings(
                    environ={},
                    overrides={
                        "data_dir": f"{tmp}/{mode}",
                        "broker": {"register_at_intake": at_intake},
                    },
                )
                app = App(settings)
                try:
                    return pipeline_rate(app, n)
                finally:
                    app.close()

            (Path(tmp) / "bare").mkdir()
            bare_put = fs_put(Path(tmp) / "bare")
            rounds_of(
                "embedded, ",
                embedded,
                {"plain": lambda: bare_rate(f"sqlite:///{tmp}/bare.sqlite3", bare_put, n)},
                {"plain": ""},
                rounds,
            )
    if "--production" in sys.argv or "--production-only" in sys.argv:
        from minio import Minio
        from minio.versioningconfig import ENABLED, VersioningConfig

        from tests.dbs import fresh_postgres_database
        from tests.s3server import _new_server, unique_prefix

        with tempfile.TemporaryDirectory() as tmp, fresh_postgres_database() as pg:
            server = _new_server(Path(tmp) / "s3")
            server.start()
            try:
                prefix = unique_prefix()

                def production(mode: str, at_intake: bool) -> float:
                    overrides = {
                        "data_dir": f"{tmp}/var",
                        "database": {"url": pg},
                        "broker": {
                            "kind": "redis",
                            "url": "redis://127.0.0.1:6379/14",
                            "namespace": f"bench{uuid.uuid4().hex[:6]}",
                            "register_at_intake": at_intake,
                        },
                        "storage": server.storage_settings(prefix),
                    }
                    app = App(load_settings(environ={}, overrides=overrides))
                    try:
                        return pipeline_rate(
                            app, n, overrides=overrides, processes=WORKER_PROCESSES
                        )
                    finally:
                        app.close()

                host = server.endpoint.split("://")[-1]
                client = Minio(host, server.access_key, server.secret_key, secure=False)
                bucket = f"{prefix}bare"
                client.make_bucket(bucket)

                def put(name: str, data: bytes) -> None:
                    client.put_object(bucket, name, io.BytesIO(data), len(data))

                # the put the submissions bucket gets: versioned bucket, conditional write
                # (If-None-Match), the SHA-256 in metadata (see storage/s3.py); the difference
                # from the plain put is the storage policy's, not the pipeline's
                kept = f"{prefix}barev"
                client.make_bucket(kept)
                client.set_bucket_versioning(kept, VersioningConfig(ENABLED))

                def put_kept(name: str, data: bytes) -> None:
                    headers = {
                        "Content-Type": "application/xml",
                        "x-amz-meta-sha256": name,
                        "If-None-Match": "*",
                    }
                    client._put_object(kept, f"sha256/{name[:2]}/{name}", data, headers)

                rounds_of(
                    "PG + Redis + S3, ",
                    production,
                    {
                        "plain": lambda: bare_rate(pg, put, n),
                        "versioned": lambda: bare_rate(pg, put_kept, n, label="versioned put"),
                    },
                    {"plain": "", "versioned": " (bare: versioned put)"},
                    rounds,
                )
            finally:
                server.stop()


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker_process()
    else:
        main()
