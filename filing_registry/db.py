"""Database engines and sessions for SQLite (embedded default, WAL) and PostgreSQL.

SQLite: every transaction starts with ``BEGIN IMMEDIATE`` so that writers queue on the database
lock at the start of a transaction instead of failing at commit (threads of one process queue
on an in-process gate first, which hands over without SQLite's busy sleeps); WAL,
``synchronous=FULL`` and a busy timeout make it safe for several processes on one machine.
PostgreSQL: the default READ COMMITTED isolation; the places that need a serial order
(reference numbers, the audit chain) take row locks explicitly.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, TextClause, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator


class Base(DeclarativeBase):
    pass


#: what registry functions write through: an ORM session, or a Core connection (the pipeline's
#: hot paths use connections: a plain statement costs a fraction of an ORM load and flush)
Executor = Session | Connection


@dataclass(frozen=True)
class Pending:
    """A statement (PostgreSQL) left for the caller to send along with its commit (see
    :func:`filing_registry.append_and_commit`)."""

    statement: TextClause
    params: dict[str, Any]


def dialect_of(executor: Executor) -> str:
    """The database dialect's name (``postgresql`` or ``sqlite``) behind ``executor``."""
    if isinstance(executor, Session):
        return executor.get_bind().dialect.name
    return executor.dialect.name


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored in UTC; naive values are refused, values read back are aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: give a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: execution option of a SQLite connection that only reads (see :func:`reading`)
_READ_ONLY = "podatelna_read_only"


class _WriteGate:
    """One SQLite writer at a time inside this process, handed over the moment it commits.

    SQLite's own busy handler makes a waiting writer sleep in growing steps (up to 100 ms), so
    writers queueing on ``BEGIN IMMEDIATE`` stall far longer than the transactions they wait
    for. Threads of one process queue here instead and go as soon as the lock is free; other
    processes still meet SQLite's lock (and its busy timeout) as before.
    """

    def __init__(self, timeout: float) -> None:
        self._lock = threading.Lock()
        self._holder: int | None = None
        self._timeout = timeout

    def enter(self, dbapi_conn: Any) -> None:
        if not self._lock.acquire(timeout=self._timeout):
            raise sqlite3.OperationalError(
                f"database is locked: no write transaction could start in {self._timeout:.0f} s"
            )
        self._holder = id(dbapi_conn)

    def leave(self, dbapi_conn: Any) -> None:
        if self._holder is not None and self._holder == id(dbapi_conn):
            self._holder = None
            self._lock.release()


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> Engine:
    """An engine for ``url``; SQLite gets WAL, full sync, a busy timeout and BEGIN IMMEDIATE."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": 30, "check_same_thread": False},
        )
        gate = _WriteGate(timeout=30)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            if conn.get_execution_options().get(_READ_ONLY):
                return  # each statement reads a committed snapshot on its own (WAL)
            raw = conn.connection.dbapi_connection
            gate.enter(raw)
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                gate.leave(raw)
                raise

        # the gate opens once the COMMIT or ROLLBACK is done, not before it (events fire before)
        dialect = engine.dialect
        base_commit, base_rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(dbapi_conn: Any) -> None:
            try:
                base_commit(dbapi_conn)
            finally:
                gate.leave(getattr(dbapi_conn, "dbapi_connection", dbapi_conn))

        def do_rollback(dbapi_conn: Any) -> None:
            try:
                base_rollback(dbapi_conn)
            finally:
                gate.leave(getattr(dbapi_conn, "dbapi_connection", dbapi_conn))

        dialect.do_commit = do_commit  # type: ignore[method-assign,assignment]
        dialect.do_rollback = do_rollback  # type: ignore[method-assign,assignment]
        return engine
    return create_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800
    )


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads only, cheaper than a transaction: on PostgreSQL it runs in
    autocommit (no BEGIN/ROLLBACK round trips), on SQLite it takes no write lock.

    Each statement sees what was committed when it started: read what must be consistent in
    one statement. Never write through it.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.execution_options(**{_READ_ONLY: True})
        else:
            conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commits when the block ends, rolls back on any error."""
    with factory() as session, session.begin():
        yield session


def utcnow() -> datetime:
    """The current time, aware, in UTC. Domain code takes time as an argument; this is for
    the application's clock."""
    return datetime.now(UTC)
