"""The system state on the embedded defaults (SQLite, filesystem store, in-process broker).

Backends are really made to fail, not mocked: a store directory removed, a database file in a
directory that does not exist, a broker URL on a closed port, a timestamp authority that accepts
connections and never answers. Services that need a server (PostgreSQL, Redis, RabbitMQ, S3) are
in ``tests/integration/test_status.py``.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from filing_registry import OutboxMessage, SubmissionState
from podatelna.app import App
from podatelna.cli import main
from podatelna.clock import FrozenClock
from podatelna.config import Settings, load_settings
from podatelna.status import Check, _run_parallel, level_of, system_state
from podatelna.web.status_api import install_status
from tests.dbs import new_submission

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CLOSED_REDIS = "redis://podatelna:s3cret-pw@127.0.0.1:1/0"


def _settings(tmp_path: Path, **sections: Any) -> Settings:
    base = load_settings(environ={"PODATELNA_DATA_DIR": str(tmp_path / "var")})
    return base.replace(**sections) if sections else base


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Any]:
    apps: list[App] = []

    def make(settings: Settings | None = None, *, migrate: bool = True) -> App:
        app = App(settings or _settings(tmp_path), clock=FrozenClock(T0))
        apps.append(app)
        if migrate:
            app.migrate()
            app.ensure_buckets()
        app.timestamper  # noqa: B018 - create the development TSA before the clock starts
        return app

    yield make
    for app in apps:
        app.close()


def _by_name(state: Any) -> dict[str, Check]:
    return {c.name: c for c in state.checks}


# -- the level ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("down", "level"),
    [
        ((), "in_operation"),
        (("broker",), "limited"),
        (("object_store",), "limited"),
        (("timestamp",), "limited"),
        (("broker", "object_store", "timestamp"), "limited"),
        (("database",), "out_of_operation"),
        (("database", "broker"), "out_of_operation"),
    ],
)
def test_level_rules(down: tuple[str, ...], level: str) -> None:
    checks = [
        Check(n, n not in down, "", 1.0)
        for n in ("database", "broker", "object_store", "timestamp")
    ]
    assert level_of(checks) == level


def test_all_up_on_embedded_defaults(make_app: Any) -> None:
    state = system_state(make_app(), timeout=10)
    assert state.level == "in_operation", state.summary()
    checks = _by_name(state)
    assert list(checks) == ["database", "broker", "object_store", "timestamp"]
    assert all(c.ok and c.latency_ms >= 0 for c in checks.values())
    assert "sqlite" in checks["database"].detail
    assert "local timestamp authority" in checks["timestamp"].detail
    assert state.checked_at == T0
    body = state.to_json()
    assert body["level"] == "in_operation"
    assert body["level_text"] == {"cs": "V provozu", "en": "In operation"}
    json.dumps(body)


# -- the load -----------------------------------------------------------------------------------


def _add_submissions(app: App, states: dict[str, int], *, unsent: dict[str, int]) -> None:
    with app.sessions() as session, session.begin():
        for state, n in states.items():
            for _ in range(n):
                sub = new_submission(T0)
                sub.state = state
                if state != SubmissionState.RECEIVED.value:
                    sub.timestamp_token = b"token"
                session.add(sub)
        for stage, n in unsent.items():
            for i in range(n):
                session.add(OutboxMessage(submission_id=f"s{i}", stage=stage, created_at=T0))
        session.add(OutboxMessage(submission_id="done", stage="verify", created_at=T0, sent_at=T0))


def test_load_counts_states_and_unconsumed_outbox_messages(make_app: Any) -> None:
    app = make_app()
    states = {
        "received": 3,
        "validated": 1,
        "registered": 2,
        "receipted": 1,
        "completed": 4,
        "rejected": 2,
    }
    _add_submissions(app, states, unsent={"validate": 3, "receipt": 2})
    load = system_state(app, timeout=10).load
    assert load.counted
    assert load.in_progress == 7  # received, validated, registered, receipted
    assert load.awaiting_timestamp == 3
    assert load.awaiting_receipt == 2
    assert load.by_state == states
    # no pipeline in this process: the in-process queues cannot be read, the outbox can
    assert load.queues_source == "outbox"
    assert load.queues == {
        "validate": 3,
        "verify": 0,
        "register": 0,
        "receipt": 2,
        "notify": 0,
        "reject_notice": 0,
    }


def test_in_process_queue_depths_come_from_the_broker(make_app: Any) -> None:
    app = make_app()
    for _ in range(4):
        app.pipeline.actors["verify"].send("sub-1")  # no workers: the messages wait
    app.pipeline.actors["notify"].send("sub-2")
    load = system_state(app, timeout=10).load
    assert load.queues_source == "broker"
    assert load.queues["verify"] == 4 and load.queues["notify"] == 1
    assert load.queues["validate"] == 0


# -- failures -----------------------------------------------------------------------------------


def test_store_directory_gone_is_limited_and_says_why(make_app: Any, tmp_path: Path) -> None:
    app = make_app()
    shutil.rmtree(app.settings.storage_root)
    state = system_state(app, timeout=10)
    assert state.level == "limited"
    store = _by_name(state)["object_store"]
    assert not store.ok
    assert str(app.settings.storage_root) in store.detail and "missing" in store.detail


def test_broker_on_a_closed_port_is_limited_and_hides_the_password(
    make_app: Any, tmp_path: Path
) -> None:
    app = make_app(_settings(tmp_path, broker={"kind": "redis", "url": CLOSED_REDIS}))
    started = time.monotonic()
    state = system_state(app, timeout=3)
    assert time.monotonic() - started < 5
    assert state.level == "limited"
    broker = _by_name(state)["broker"]
    assert not broker.ok and "Redis is not reachable" in broker.detail
    # the broker cannot say how much waits: the outbox does
    assert state.load.queues_source == "outbox"
    assert "s3cret-pw" not in json.dumps(state.to_json())


def test_database_unreachable_is_out_of_operation(make_app: Any, tmp_path: Path) -> None:
    missing_dir = tmp_path / "no-such-dir" / "db.sqlite3"
    app = make_app(_settings(tmp_path, database={"url": f"sqlite:///{missing_dir}"}), migrate=False)
    state = system_state(app, timeout=10)
    assert state.level == "out_of_operation"
    db = _by_name(state)["database"]
    assert not db.ok and "unable to open database file" in db.detail
    assert not state.load.counted
    assert state.load.to_json()["in_progress"] is None
    assert state.load.queues == {} and state.load.queues_source == ""


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP listener that accepts connections and never answers (a hung service)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    conns: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conns.append(sock.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/tsr"
    stop.set()
    t.join()
    for c in conns:
        c.close()
    sock.close()


def test_hung_timestamp_authority_is_given_up_after_the_timeout(
    make_app: Any, tmp_path: Path, silent_server: str
) -> None:
    settings = _settings(tmp_path, timestamp={"kind": "http", "url": silent_server})
    app = make_app(settings)
    started = time.monotonic()
    state = system_state(app, timeout=1.0)
    elapsed = time.monotonic() - started
    assert elapsed < 2.5, elapsed
    assert state.level == "limited"
    ts = _by_name(state)["timestamp"]
    assert not ts.ok
    assert "no answer" in ts.detail or "timed out" in ts.detail.lower()
    assert _by_name(state)["database"].ok


def test_a_hung_probe_is_not_started_twice() -> None:
    release = threading.Event()
    calls: list[int] = []

    def hang() -> str:
        calls.append(1)
        release.wait(10)
        return "late"

    busy: dict[str, Any] = {}
    first = _run_parallel({"x": hang, "y": lambda: "fine"}, 0.2, busy)
    assert isinstance(first["x"].error, TimeoutError) and first["y"].value == "fine"
    second = _run_parallel({"x": hang}, 0.2, busy)
    assert isinstance(second["x"].error, TimeoutError)
    assert "still waiting" in str(second["x"].error)
    assert calls == [1]
    release.set()
    busy["x"][0].join(5)
    third = _run_parallel({"x": hang}, 2.0, busy)
    assert third["x"].value == "late" and calls == [1, 1]


def test_the_state_is_cached_for_max_age(make_app: Any) -> None:
    app = make_app()
    first = system_state(app, timeout=10, max_age=60)
    assert system_state(app, timeout=10, max_age=60) is first
    assert system_state(app, timeout=10, max_age=0) is not first


# -- HTTP and CLI -------------------------------------------------------------------------------


def _client(app: App) -> TestClient:
    api = FastAPI()
    install_status(api, app)
    return TestClient(api)


def test_status_json_and_metrics(make_app: Any) -> None:
    app = make_app()
    _add_submissions(app, {"received": 2, "completed": 1}, unsent={"validate": 2})
    with _client(app) as client:
        r = client.get("/api/v1/status")
        assert r.status_code == 200
        assert r.json()["level"] == "in_operation"
        assert r.headers["cache-control"] == "no-store"
        assert client.get("/no/such/page").status_code == 404
        m = client.get("/metrics")
    assert m.status_code == 200 and m.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(m.text)
        for s in fam.samples
    }
    assert samples[("podatelna_system_level", (("level", "in_operation"),))] == 1
    assert samples[("podatelna_system_level", (("level", "limited"),))] == 0
    for check in ("database", "broker", "object_store", "timestamp"):
        assert samples[("podatelna_check_up", (("check", check),))] == 1
        assert ("podatelna_check_latency_seconds", (("check", check),)) in samples
    assert samples[("podatelna_queue_depth", (("source", "outbox"), ("stage", "validate")))] == 2
    assert samples[("podatelna_submissions", (("state", "received"),))] == 2
    assert samples[("podatelna_submissions_in_progress", ())] == 2
    assert samples[("podatelna_submissions_awaiting_timestamp", ())] == 2
    key = ("method", "GET"), ("route", "/api/v1/status"), ("status", "200")
    assert samples[("podatelna_http_requests_total", key)] == 1
    assert (
        samples[
            ("podatelna_http_requests_total", (key[0], ("route", "<unmatched>"), ("status", "404")))
        ]
        == 1
    )
    assert samples[("podatelna_http_request_duration_seconds_count", (key[0], key[1]))] == 1
    assert samples[("podatelna_http_requests_in_progress", ())] == 1  # the /metrics request


def test_status_is_503_when_out_of_operation(make_app: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gone' / 'db.sqlite3'}"
    app = make_app(_settings(tmp_path, database={"url": url}), migrate=False)
    with _client(app) as client:
        r = client.get("/api/v1/status")
    assert r.status_code == 503
    body = r.json()
    assert body["level"] == "out_of_operation"
    assert body["load"]["in_progress"] is None


def test_state_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PODATELNA_DATA_DIR", str(tmp_path / "var"))
    app = App(load_settings())
    app.migrate()
    app.ensure_buckets()
    app.close()
    assert main(["state", "--timeout", "10"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("In operation (V provozu)")
    assert "database" in out and "queues (outbox): validate 0" in out
    monkeypatch.setenv("PODATELNA_BROKER__KIND", "redis")
    monkeypatch.setenv("PODATELNA_BROKER__URL", CLOSED_REDIS)
    assert main(["state", "--json"]) == 1
    body = json.loads(capsys.readouterr().out)
    assert body["level"] == "limited"
    assert [c["name"] for c in body["checks"] if not c["ok"]] == ["broker"]


def test_building_the_api_probes_nothing(make_app: Any) -> None:
    # the registry must not collect (probe every backend) while the API is being built: here
    # before the migrations ran, which would have cached a state with nothing counted
    app = make_app(migrate=False)
    client = _client(app)
    app.migrate()
    app.ensure_buckets()
    with client:
        body = client.get("/api/v1/status").json()
    assert body["level"] == "in_operation"
    assert body["load"]["in_progress"] == 0


def test_state_page_says_unknown_not_zero_when_the_database_is_down(
    make_app: Any, tmp_path: Path
) -> None:
    from podatelna.web.api import create_api

    missing_dir = tmp_path / "no-such-dir" / "db.sqlite3"
    app = make_app(_settings(tmp_path, database={"url": f"sqlite:///{missing_dir}"}), migrate=False)
    page = TestClient(create_api(app)).get("/stav")  # no lifespan: nothing migrates
    assert page.status_code == 503  # the page answers, with the status monitors expect
    assert 'data-level="out_of_operation"' in page.text
    assert page.text.count("nelze zjistit") == 3
    assert "<dd>0</dd>" not in page.text
