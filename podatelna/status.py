"""The system state: *in operation*, *limited functionality* or *out of operation*, and the load.

What the public status page, ``GET /api/v1/status``, ``GET /metrics`` and ``podatelna state``
show. The level comes from live checks of the backends the settings choose:

* ``database``: ``SELECT 1`` on the application's engine;
* ``broker``: a connection to Redis or RabbitMQ (:func:`podatelna.pipeline.broker.ping_broker`);
  the in-process broker lives inside this process and is always up;
* ``object_store``: the store's own cheap probe (:meth:`ObjectStore.ping`: a bucket lookup on
  S3, the directory on disk);
* ``timestamp``: an RFC 3161 token over a fixed digest, from the local TSA (proves its key loads
  and signs) or from the HTTP TSA (a real request).

Without the database nothing can be accepted or looked up: *out of operation*. Any other check
failing leaves part of the service working (intake answers 503 while the store or broker is
down, receipts wait for the timestamp source): *limited functionality*.

The load: submissions in non-final states, how many of them still wait for their filing
timestamp, how many are registered but not yet receipted, and the queue depth per pipeline stage
read from the broker itself (Redis list lengths, RabbitMQ queue message counts, the in-process
queues of this process), or, when the broker cannot say, counted as unconsumed outbox messages
per stage.

Guarantees: every probe runs in a daemon thread and is given up after ``timeout`` seconds, so a
hung backend never hangs the caller; a probe still running from an earlier round is not started
again (a hung backend does not pile up threads); the result is cached on the :class:`App` for
``max_age`` seconds, so a busy status page costs one round of probes per interval. Details shown
here are public: credentials in URLs are masked.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import func, select

from filing_registry import OutboxMessage, Submission, SubmissionState
from podatelna.pipeline.stages import STAGES

if TYPE_CHECKING:
    from podatelna.app import App

Level = Literal["in_operation", "limited", "out_of_operation"]
LEVELS: tuple[Level, ...] = ("in_operation", "limited", "out_of_operation")
CHECKS = ("database", "broker", "object_store", "timestamp")
#: what the status page says for each level (Czech, as the data-box system shows it; English)
LEVEL_TEXT = {
    "in_operation": ("V provozu", "In operation"),
    "limited": ("Omezená funkčnost", "Limited functionality"),
    "out_of_operation": ("Mimo provoz", "Out of operation"),
}
FINAL_STATES = (SubmissionState.COMPLETED.value, SubmissionState.REJECTED.value)
#: the digest the timestamp probe asks a token for (any 32 bytes do; this one is recognisable)
PROBE_DIGEST = hashlib.sha256(b"podatelna status probe").digest()
DEFAULT_TIMEOUT = 2.0
DEFAULT_MAX_AGE = 2.0


@dataclass(frozen=True)
class Check:
    """One live check: did the backend answer, what it said (or why not), how fast."""

    name: str
    ok: bool
    detail: str
    latency_ms: float

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "detail": self.detail,
            "latency_ms": round(self.latency_ms, 1),
        }


@dataclass(frozen=True)
class Load:
    """What the system is working on. Counts are 0 and ``counted`` False when the database did
    not answer; ``queues`` is empty when neither the broker nor the database could say."""

    in_progress: int
    #: messages waiting per pipeline stage (``validate``, ``verify``, ...)
    queues: dict[str, int]
    awaiting_timestamp: int
    awaiting_receipt: int
    #: submissions per pipeline state (all states, final ones too)
    by_state: dict[str, int] = field(default_factory=dict)
    #: ``broker`` (read from the broker), ``outbox`` (unconsumed outbox messages) or ``""``
    queues_source: str = "broker"
    counted: bool = True

    def to_json(self) -> dict[str, Any]:
        known = self.counted
        return {
            "in_progress": self.in_progress if known else None,
            "awaiting_timestamp": self.awaiting_timestamp if known else None,
            "awaiting_receipt": self.awaiting_receipt if known else None,
            "queues": dict(self.queues),
            "queues_source": self.queues_source or None,
            "by_state": dict(self.by_state) if known else None,
        }


@dataclass(frozen=True)
class SystemState:
    level: Level
    checks: tuple[Check, ...]
    load: Load
    checked_at: datetime

    @property
    def ok(self) -> bool:
        return self.level == "in_operation"

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def summary(self) -> str:
        """One line: the level and what is down."""
        down = [f"{c.name} ({c.detail})" for c in self.checks if not c.ok]
        text = LEVEL_TEXT[self.level][1]
        return f"{text}: {', '.join(down)} down" if down else text

    def to_json(self) -> dict[str, Any]:
        cs, en = LEVEL_TEXT[self.level]
        return {
            "level": self.level,
            "level_text": {"cs": cs, "en": en},
            "checked_at": self.checked_at.isoformat(),
            "checks": [c.to_json() for c in self.checks],
            "load": self.load.to_json(),
        }


def level_of(checks: tuple[Check, ...] | list[Check]) -> Level:
    """Database down: out of operation; anything else down: limited; all up: in operation."""
    down = {c.name for c in checks if not c.ok}
    if "database" in down:
        return "out_of_operation"
    return "limited" if down else "in_operation"


# -- the cache kept on the App --------------------------------------------------------------------


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.state: SystemState | None = None
        self.at = float("-inf")
        #: probes still running: name -> (thread, monotonic start)
        self.busy: dict[str, tuple[threading.Thread, float]] = {}
        self.tsa_probe: Any = None


def _cache(app: App) -> _Cache:
    cache: _Cache = app.__dict__.setdefault("_status_cache", _Cache())
    return cache


def system_state(
    app: App, *, max_age: float = DEFAULT_MAX_AGE, timeout: float = DEFAULT_TIMEOUT
) -> SystemState:
    """The live state (checks and load), cached on ``app`` for ``max_age`` seconds.

    Returns within about ``timeout`` seconds whatever the backends do.
    """
    cache = _cache(app)
    with cache.lock:
        if cache.state is not None and time.monotonic() - cache.at < max_age:
            return cache.state
        state = _measure(app, cache, timeout)
        cache.state, cache.at = state, time.monotonic()
        return state


def _measure(app: App, cache: _Cache, timeout: float) -> SystemState:
    probes: dict[str, Callable[[], Any]] = {
        "database": lambda: _check_database(app),
        "broker": lambda: _check_broker(app, timeout),
        "object_store": lambda: _check_store(app),
        "timestamp": lambda: _check_timestamp(app, cache, timeout),
        "counts": lambda: _counts(app),
        "queues": lambda: _broker_queues(app, timeout),
    }
    results = _run_parallel(probes, timeout, cache.busy)
    checks = tuple(
        Check(
            name,
            results[name].error is None,
            _public(
                str(results[name].value) if results[name].error is None else _why(results[name])
            ),
            results[name].latency_ms,
        )
        for name in CHECKS
    )
    return SystemState(
        level=level_of(checks),
        checks=checks,
        load=_load(results["counts"], results["queues"]),
        checked_at=app.clock.now(),
    )


# -- running probes with a deadline ---------------------------------------------------------------


@dataclass
class _Outcome:
    value: Any = None
    error: BaseException | None = None
    latency_ms: float = 0.0


def _run_parallel(
    probes: dict[str, Callable[[], Any]],
    timeout: float,
    busy: dict[str, tuple[threading.Thread, float]],
) -> dict[str, _Outcome]:
    """Run ``probes`` at once in daemon threads; give each up after ``timeout`` seconds."""
    started = time.monotonic()
    deadline = started + timeout
    running: dict[str, tuple[threading.Thread, _Outcome]] = {}
    results: dict[str, _Outcome] = {}
    for name, fn in probes.items():
        prev = busy.get(name)
        if prev is not None and prev[0].is_alive():
            results[name] = _Outcome(
                error=TimeoutError(
                    f"no answer: the probe started {started - prev[1]:.0f} s ago is still waiting"
                ),
                latency_ms=(started - prev[1]) * 1000,
            )
            continue
        out = _Outcome()

        def run(fn: Callable[[], Any] = fn, out: _Outcome = out) -> None:
            t0 = time.perf_counter()
            try:
                out.value = fn()
            except Exception as exc:  # noqa: BLE001 - a failing backend is the answer
                out.error = exc
            finally:
                out.latency_ms = (time.perf_counter() - t0) * 1000

        thread = threading.Thread(target=run, name=f"status-{name}", daemon=True)
        thread.start()
        busy[name] = (thread, started)
        running[name] = (thread, out)
    for name, (thread, out) in running.items():
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            results[name] = _Outcome(
                error=TimeoutError(f"no answer within {timeout:g} s"), latency_ms=timeout * 1000
            )
        else:
            busy.pop(name, None)
            results[name] = out
    return results


def _why(out: _Outcome) -> str:
    exc = out.error
    text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
    cause = exc.__cause__ if exc is not None else None
    if text.endswith(":") and cause is not None:  # pika's errors often have no message
        text = f"{text} {str(cause).strip() or type(cause).__name__}"
    return text[:300]


_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s]*@", re.IGNORECASE)


def _public(text: str) -> str:
    """``text`` without credentials in URLs (the state is shown to anyone)."""
    return _USERINFO.sub(r"\1***@", text)


# -- the checks (each returns its detail, or raises) ----------------------------------------------


def _check_database(app: App) -> str:
    # a plain DBAPI connection: on SQLite a SQLAlchemy transaction starts with BEGIN IMMEDIATE,
    # and the probe must not queue for the write lock
    raw = app.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SELECT 1")
        cur.fetchone()
        cur.close()
    finally:
        raw.close()
    return f"{app.engine.dialect.name} answered SELECT 1"


def _check_broker(app: App, timeout: float) -> str:
    from podatelna.pipeline.broker import ping_broker

    settings = app.settings.broker
    if settings.kind == "inprocess":
        return "in-process broker (runs inside the serving process)"
    ping_broker(settings, timeout=min(timeout, 1.0))
    return f"{settings.kind} answered"


def _check_store(app: App) -> str:
    store = app.store
    store.ping()
    return store.describe()


def _check_timestamp(app: App, cache: _Cache, timeout: float) -> str:
    ts = app.settings.timestamp
    if ts.kind == "http":
        if cache.tsa_probe is None:
            from signing.tsa import HttpTimestamper

            cache.tsa_probe = HttpTimestamper(
                ts.url,
                timeout=min(ts.timeout_seconds, timeout),
                username=ts.username,
                password=ts.password,
            )
        cache.tsa_probe.timestamp_token(PROBE_DIGEST)
        return f"the timestamp authority at {ts.url} issued a token"
    app.timestamper.timestamp_token(PROBE_DIGEST)
    return "the local timestamp authority (development) issued a token"


# -- the load -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Counts:
    by_state: dict[str, int]
    awaiting_timestamp: int
    unconsumed: dict[str, int]


def _counts(app: App) -> _Counts:
    with app.sessions() as session:
        by_state = {
            state: int(n)
            for state, n in session.execute(
                select(Submission.state, func.count()).group_by(Submission.state)
            ).all()
        }
        awaiting_ts = session.execute(
            select(func.count())
            .select_from(Submission)
            .where(Submission.timestamp_token.is_(None), Submission.state.not_in(FINAL_STATES))
        ).scalar_one()
        unconsumed = {
            stage: int(n)
            for stage, n in session.execute(
                select(OutboxMessage.stage, func.count())
                .where(OutboxMessage.sent_at.is_(None))
                .group_by(OutboxMessage.stage)
            ).all()
        }
    return _Counts(by_state, int(awaiting_ts), unconsumed)


def _load(counts: _Outcome, queues: _Outcome) -> Load:
    c: _Counts | None = counts.value if counts.error is None else None
    if queues.error is None and queues.value is not None:
        depths, source = queues.value, "broker"
    elif c is not None:
        depths, source = {s: c.unconsumed.get(s, 0) for s in STAGES}, "outbox"
    else:
        depths, source = {}, ""
    if c is None:
        return Load(0, depths, 0, 0, queues_source=source, counted=False)
    return Load(
        in_progress=sum(n for s, n in c.by_state.items() if s not in FINAL_STATES),
        queues=depths,
        awaiting_timestamp=c.awaiting_timestamp,
        awaiting_receipt=c.by_state.get(SubmissionState.REGISTERED.value, 0),
        by_state=c.by_state,
        queues_source=source,
    )


def queue_names(app: App) -> dict[str, str]:
    """The broker queue of each stage (as :class:`~podatelna.pipeline.runner.Pipeline` names
    them)."""
    ns = app.settings.broker.namespace
    return {stage: f"{ns}_{stage}" for stage in STAGES}


def _broker_queues(app: App, timeout: float) -> dict[str, int] | None:
    """Messages waiting per stage, from the broker; ``None`` when the broker cannot say (the
    in-process broker of another process)."""
    settings = app.settings.broker
    names = queue_names(app)
    if settings.kind == "redis":
        return _redis_depths(
            settings.url or "redis://127.0.0.1:6379/0", settings.namespace, names, timeout
        )
    if settings.kind == "rabbitmq":
        return _rabbitmq_depths(
            settings.url or "amqp://guest:guest@127.0.0.1:5672/", names, timeout
        )
    if "pipeline" not in app.__dict__:
        return None  # the in-process queues live in the serving process, not here
    queues = getattr(app.pipeline.broker, "queues", {})
    return {
        stage: sum(queues[q].qsize() for q in (name, f"{name}.DQ") if q in queues)
        for stage, name in names.items()
    }


def _redis_depths(
    url: str, namespace: str, names: dict[str, str], timeout: float
) -> dict[str, int]:
    """Length of each stage's list (and its delay list): dramatiq's Redis broker keeps waiting
    message ids in ``<namespace>:<queue>``, delayed ones in ``<namespace>:<queue>.DQ``."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        pipe = client.pipeline(transaction=False)
        for name in names.values():
            pipe.llen(f"{namespace}:{name}")
            pipe.llen(f"{namespace}:{name}.DQ")
        lengths = pipe.execute()
    finally:
        client.close()
    return {stage: int(lengths[2 * i]) + int(lengths[2 * i + 1]) for i, stage in enumerate(names)}


def _rabbitmq_depths(url: str, names: dict[str, str], timeout: float) -> dict[str, int]:
    """Ready messages of each stage's queue and its delay queue (a passive declare: a queue
    nobody declared yet holds nothing)."""
    import pika
    from pika.exceptions import ChannelClosedByBroker

    params = pika.URLParameters(url)
    params.socket_timeout = timeout
    params.connection_attempts = 1
    params.blocked_connection_timeout = timeout
    conn = pika.BlockingConnection(params)
    try:
        channel = conn.channel()
        depths: dict[str, int] = {}
        for stage, name in names.items():
            total = 0
            for q in (name, f"{name}.DQ"):
                try:
                    total += channel.queue_declare(queue=q, passive=True).method.message_count
                except ChannelClosedByBroker as exc:
                    if exc.reply_code != 404:
                        raise
                    channel = conn.channel()  # the broker closes a channel on a 404
            depths[stage] = total
        return depths
    finally:
        conn.close()
