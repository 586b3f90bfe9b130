"""Databases for tests: a SQLite file URL, and a fresh, uniquely named PostgreSQL database.

``fresh_postgres_database()`` creates ``podatelna_t_<random>`` on the server at
:data:`tests.services.POSTGRES_URL` and drops it afterwards (``WITH (FORCE)``, so connections a
failed test left open do not keep it alive). When the server is unreachable it calls
:func:`tests.services.missing`: the test skips locally and fails in CI. The ``pg_url`` fixture
wraps it for tests (registered through ``pytest_plugins`` in ``tests/conftest.py``).
``new_submission()`` builds a minimal submission row for registry tests.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from filing_registry import Channel, Submission, SubmissionState
from tests.services import POSTGRES_URL, missing


def sqlite_url(tmp_path: Path, name: str = "registry.sqlite3") -> str:
    """The SQLAlchemy URL of a SQLite file in ``tmp_path``."""
    return f"sqlite:///{(tmp_path / name).resolve()}"


@contextmanager
def fresh_postgres_database(server_url: str = POSTGRES_URL) -> Iterator[str]:
    """Create a uniquely named database, yield its SQLAlchemy URL, drop it afterwards."""
    name = f"podatelna_t_{secrets.token_hex(6)}"
    admin = create_engine(
        make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except OperationalError as exc:
            shown = make_url(server_url).render_as_string(hide_password=True)
            missing(f"PostgreSQL at {shown} ({str(exc.orig).splitlines()[0]})")
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
        try:
            yield url
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """The URL of a fresh PostgreSQL database, dropped after the test."""
    with fresh_postgres_database() as url:
        yield url


def new_submission(received_at: datetime, *, sender: str = "jana@example.cz") -> Submission:
    """A minimal submission row (not yet added to a session) received at ``received_at``."""
    sid = uuid.uuid4().hex
    return Submission(
        id=sid,
        channel=Channel.PORTAL.value,
        sender=sender,
        dedup_key=f"key:{sid}",
        payload_sha256=hashlib.sha256(sid.encode()).hexdigest(),
        received_at=received_at,
        updated_at=received_at,
        state=SubmissionState.RECEIVED.value,
    )
