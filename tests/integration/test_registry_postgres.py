"""The registry on PostgreSQL: migrations, and the audit chain with concurrent writers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError

from filing_registry import (
    Act,
    AuditEntry,
    Filing,
    Registration,
    append_and_commit,
    audit,
    make_engine,
    make_sessionmaker,
    migrate,
    register,
    transaction,
    verify_chain,
)
from filing_registry.durable import flush_group
from tests.dbs import new_submission
from tests.threads import run_together

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TABLES = {
    "account_tokens",  # migration 0003_accounts
    "alembic_version",
    "audit_head",
    "audit_log",
    "databox_events",
    "databox_messages",
    "databox_tokens",
    "filings",
    "outbox",
    "reference_counters",
    "status_events",
    "submission_files",
    "submissions",
    "users",  # migration 0003_accounts
}


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    eng = make_engine(pg_url)
    yield eng
    eng.dispose()


def test_migrations_run_twice_and_keep_the_data(engine: Engine) -> None:
    migrate(engine)
    assert set(inspect(engine).get_table_names()) == TABLES
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        sub = new_submission(T0)
        session.add(sub)
        register(session, sub, Registration("MMO", "{office}/{seq:05d}/{year}"), now=T0)
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()

    migrate(engine)  # again: nothing to do, nothing lost

    inspect_again = inspect(engine)
    assert set(inspect_again.get_table_names()) == TABLES
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [
            version
        ]
    with sessions() as session:
        filing = session.execute(select(Filing)).scalar_one()
        assert filing.reference == "MMO/00001/2026"
        assert filing.received_at == T0  # aware, UTC, round-tripped


def test_audit_chain_stays_linear_with_two_concurrent_writers(engine: Engine) -> None:
    migrate(engine)
    sessions = make_sessionmaker(engine)
    per_thread = 150

    def writer(name: str) -> None:
        for i in range(per_thread):
            with transaction(sessions) as session:
                audit(
                    session,
                    at=T0 + timedelta(seconds=i),
                    actor=name,
                    action="submit",
                    object_type="submission",
                    object_id=f"{name}-{i}",
                    subject=f"{name}@example.cz",
                    details={"i": i, "name": name},
                )

    run_together(writer, [("alpha",), ("beta",)], timeout=120)

    with sessions() as session:
        report = verify_chain(session)
        entries = session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
    assert report.ok, report.summary()
    assert report.checked == 2 * per_thread
    assert [e.seq for e in entries] == list(range(1, 2 * per_thread + 1))
    for name in ("alpha", "beta"):  # each writer's entries all there, in its own order
        mine = [e.details["i"] for e in entries if e.actor == name]
        assert mine == list(range(per_thread))
    # the writers really interleaved
    actors = [e.actor for e in entries]
    assert sum(a != b for a, b in zip(actors, actors[1:], strict=False)) > 1

    # and a tampered entry is found on PostgreSQL too (JSON compared after a round trip)
    with transaction(sessions) as session:
        session.execute(
            text("UPDATE audit_log SET details = CAST(:d AS JSON) WHERE seq = 7"),
            {"d": '{"i": 999, "name": "alpha"}'},
        )
    with sessions() as session:
        report = verify_chain(session)
    assert not report.ok and report.broken_at == 7


def test_audit_chain_with_four_writers_sessions_and_connections(engine: Engine) -> None:
    """The one-statement append (the server hashes the entries from the locked head) keeps one
    line with four writers racing from the first entry on, one act or two per transaction,
    through ORM sessions and plain connections alike, with details that contain text looking
    like the hashed fields."""
    migrate(engine)
    sessions = make_sessionmaker(engine)
    per_thread = 60

    def writer(name: str, via_session: bool) -> None:
        for i in range(per_thread):
            kw = {
                "at": T0 + timedelta(microseconds=i),
                "actor": name,
                "action": "submit",
                "object_type": "submission",
                "object_id": f"{name}-{i}",
                "subject": f'Žluťoučký ,"seq":0,"subject": {name}',
                "details": {"i": i, "nested": {"a": 1, "seq": 0, "subject": None}},
            }
            if via_session:
                with transaction(sessions) as session:
                    audit(session, **kw)  # type: ignore[arg-type]
            else:  # two acts and the commit in one round trip, through a connection
                with engine.begin() as conn:
                    acts = [Act(**kw), Act(**dict(kw, action="register"))]  # type: ignore[arg-type]
                    entries = append_and_commit(conn, acts)
                    assert entries[1].prev_hash == entries[0].hash

    run_together(writer, [(f"w{n}", n % 2 == 0) for n in range(4)], timeout=120)
    with sessions() as session:
        report = verify_chain(session)
    assert report.ok, report.summary()
    assert report.checked == 2 * per_thread + 2 * 2 * per_thread


def test_append_and_commit_never_commits_without_its_entries(engine: Engine) -> None:
    """Without a chain head the append fails, and the transaction's other writes with it: the
    commit sent along with the append never makes an act durable without its audit entry."""
    migrate(engine)
    act = Act(T0, "system", "submit", "submission", "s1")
    with engine.begin() as conn:
        append_and_commit(conn, [act])  # creates the head (once per database and process)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_head"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("CREATE TABLE marker (x int)"))
        append_and_commit(conn, [act, act])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT to_regclass('marker')")).scalar_one() is None
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 1


def test_append_and_commit_without_entries_appends_the_same(engine: Engine) -> None:
    """``entries=False`` only spares building the returned objects: the entries are written,
    chained and committed as with them."""
    migrate(engine)
    act = Act(T0, "system", "submit", "submission", "s1")
    with engine.begin() as conn:
        assert len(append_and_commit(conn, [act])) == 1
    with engine.begin() as conn:
        assert append_and_commit(conn, [act, act], entries=False) == []
    with make_sessionmaker(engine)() as s:
        report = verify_chain(s)
    assert report.ok and report.checked == 3


def test_concurrent_commits_share_flush_barriers(engine: Engine) -> None:
    """Eight threads appending and committing: every commit waits for a flush barrier that
    began after it (filing_registry.durable), the barriers are shared, the chain stays one line
    and every connection goes back to the pool out of autocommit (the barrier's own mode)."""
    migrate(engine)
    group = flush_group(engine.url.render_as_string(hide_password=True))
    before = group.barriers + group.shared
    threads_n, per_thread = 8, 40

    def writer(n: int) -> None:
        for i in range(per_thread):
            with engine.begin() as conn:
                act = Act(T0, f"w{n}", "submit", "submission", f"w{n}-{i}")
                append_and_commit(conn, [act], entries=False)

    run_together(writer, [(n,) for n in range(threads_n)], timeout=120)
    assert group.barriers + group.shared - before == threads_n * per_thread
    with make_sessionmaker(engine)() as s:
        report = verify_chain(s)
    assert report.ok and report.checked == threads_n * per_thread
    conns = [engine.connect() for _ in range(threads_n)]
    try:
        for conn in conns:
            assert conn.connection.dbapi_connection.autocommit is False  # type: ignore[union-attr]
            trans = conn.begin()
            conn.execute(text("CREATE TEMP TABLE t (x int)"))
            trans.rollback()  # undone: the connection was in a transaction, not autocommit
            assert conn.execute(text("SELECT to_regclass('pg_temp.t')")).scalar_one() is None
    finally:
        for conn in conns:
            conn.close()
