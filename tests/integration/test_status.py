"""The system state against real services: PostgreSQL, Redis, RabbitMQ and an S3 server.

The S3 server is one of this test's own, stopped in the middle of the test: the level drops to
*limited* and the store's check says why. Queue depths are read from Redis and RabbitMQ for real:
messages are sent to the stage queues with no worker running, and the counts must match. A
broker or a database on a closed port gives *limited* and *out of operation*. ``/metrics`` is
parsed with prometheus_client's own text parser.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from filing_registry import SubmissionState
from podatelna.app import App
from podatelna.config import Settings, load_settings
from podatelna.status import system_state
from podatelna.web.api import create_api
from tests.dbs import new_submission
from tests.s3server import S3Server, unique_prefix
from tests.services import RABBITMQ_URL, REDIS_URL, drop_redis_namespace, require_port

pytestmark = pytest.mark.integration

CLOSED_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/podatelna"
CLOSED_REDIS = "redis://127.0.0.1:1/0"


def _host_port(url: str, default: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default


def _settings(tmp_path: Path, **sections: Any) -> Settings:
    base = load_settings(environ={"PODATELNA_DATA_DIR": str(tmp_path / "var")})
    return base.replace(**sections)


@pytest.fixture
def namespace() -> str:
    return f"st{uuid.uuid4().hex[:10]}"


@pytest.fixture
def make_app() -> Iterator[Any]:
    apps: list[App] = []

    def make(settings: Settings, *, migrate: bool = True) -> App:
        app = App(settings)
        apps.append(app)
        if migrate:
            app.migrate()
            app.ensure_buckets()
        return app

    yield make
    for app in apps:
        app.close()


def _checks(state: Any) -> dict[str, Any]:
    return {c.name: c for c in state.checks}


def _drop_rabbitmq(namespace: str) -> None:
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    try:
        channel = conn.channel()
        from podatelna.pipeline.stages import STAGES

        for stage in STAGES:
            for suffix in ("", ".DQ", ".XQ"):
                channel.queue_delete(f"{namespace}_{stage}{suffix}")
    finally:
        conn.close()


def test_postgres_redis_s3_in_operation_then_limited_when_the_store_stops(
    s3_server_private: S3Server, pg_url: str, tmp_path: Path, namespace: str, make_app: Any
) -> None:
    require_port("Redis", *_host_port(REDIS_URL, 6379))
    server = s3_server_private
    settings = _settings(
        tmp_path,
        database={"url": pg_url},
        broker={"kind": "redis", "url": REDIS_URL, "namespace": namespace},
        storage=server.storage_settings(unique_prefix()),
    )
    app = make_app(settings)
    app.timestamper  # noqa: B018 - the development TSA is created once, before measuring
    try:
        with app.sessions() as session, session.begin():
            for state in ("received", "registered", "registered", "completed"):
                sub = new_submission(app.clock.now())
                sub.state = state
                if state != SubmissionState.RECEIVED.value:
                    sub.timestamp_token = b"token"
                session.add(sub)
        state = system_state(app, timeout=5, max_age=0)
        assert state.level == "in_operation", state.summary()
        checks = _checks(state)
        assert "postgresql" in checks["database"].detail
        assert checks["object_store"].detail.startswith(f"S3 at {server.endpoint}")
        assert state.load.by_state == {"received": 1, "registered": 2, "completed": 1}
        assert (state.load.in_progress, state.load.awaiting_timestamp) == (3, 1)
        assert state.load.awaiting_receipt == 2
        assert state.load.queues_source == "broker"

        with TestClient(create_api(app)) as client:
            server.stop()
            started = time.monotonic()
            body = client.get("/api/v1/status").json()
            assert time.monotonic() - started < 5
            metrics = client.get("/metrics").text
        assert body["level"] == "limited", body
        store = next(c for c in body["checks"] if c["name"] == "object_store")
        assert store["ok"] is False
        assert server.endpoint in store["detail"], store
        others = [c["ok"] for c in body["checks"] if c["name"] != "object_store"]
        assert others == [True, True, True]
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(metrics)
            for s in fam.samples
        }
        assert samples[("podatelna_system_level", (("level", "limited"),))] == 1
        assert samples[("podatelna_check_up", (("check", "object_store"),))] == 0
        assert samples[("podatelna_check_up", (("check", "database"),))] == 1
        assert samples[("podatelna_submissions", (("state", "registered"),))] == 2
        assert samples[("podatelna_submissions_awaiting_receipt", ())] == 2
        route = ("method", "GET"), ("route", "/api/v1/status"), ("status", "200")
        assert samples[("podatelna_http_requests_total", route)] == 1
    finally:
        drop_redis_namespace(namespace)


def _send_and_count(app: App) -> dict[str, int]:
    """Send messages to three stage queues with no worker running; read the depths."""
    actors = app.pipeline.actors
    for _ in range(3):
        actors["validate"].send(uuid.uuid4().hex)
    for _ in range(2):
        actors["receipt"].send(uuid.uuid4().hex)
    actors["notify"].send(uuid.uuid4().hex)
    state = system_state(app, timeout=5, max_age=0)
    assert state.level == "in_operation", state.summary()
    assert state.load.queues_source == "broker"
    return state.load.queues


#: the queue depths after :func:`_send_and_count`'s messages
SENT_DEPTHS = {
    "validate": 3,
    "verify": 0,
    "register": 0,
    "receipt": 2,
    "notify": 1,
    "reject_notice": 0,
}


def test_queue_depths_from_redis(tmp_path: Path, namespace: str, make_app: Any) -> None:
    require_port("Redis", *_host_port(REDIS_URL, 6379))
    settings = _settings(
        tmp_path, broker={"kind": "redis", "url": REDIS_URL, "namespace": namespace}
    )
    app = make_app(settings)
    try:
        assert _send_and_count(app) == SENT_DEPTHS
        # a delayed message (a retry waiting for its backoff) waits too
        app.pipeline.actors["verify"].send_with_options(args=("x",), delay=60_000)
        assert system_state(app, timeout=5, max_age=0).load.queues["verify"] == 1
    finally:
        drop_redis_namespace(namespace)


def test_queue_depths_from_rabbitmq(tmp_path: Path, namespace: str, make_app: Any) -> None:
    require_port("RabbitMQ", *_host_port(RABBITMQ_URL, 5672))
    settings = _settings(
        tmp_path, broker={"kind": "rabbitmq", "url": RABBITMQ_URL, "namespace": namespace}
    )
    app = make_app(settings)
    try:
        assert _send_and_count(app) == SENT_DEPTHS
    finally:
        _drop_rabbitmq(namespace)


def test_redis_down_is_limited_with_postgres(pg_url: str, tmp_path: Path, make_app: Any) -> None:
    settings = _settings(
        tmp_path, database={"url": pg_url}, broker={"kind": "redis", "url": CLOSED_REDIS}
    )
    app = make_app(settings)
    state = system_state(app, timeout=5, max_age=0)
    assert state.level == "limited"
    broker = _checks(state)["broker"]
    assert not broker.ok and "Redis is not reachable" in broker.detail
    assert state.load.queues_source == "outbox"


def test_rabbitmq_down_is_limited(tmp_path: Path, make_app: Any) -> None:
    settings = _settings(
        tmp_path, broker={"kind": "rabbitmq", "url": "amqp://guest:guest@127.0.0.1:1/"}
    )
    app = make_app(settings)
    state = system_state(app, timeout=5, max_age=0)
    assert state.level == "limited"
    broker = _checks(state)["broker"]
    assert not broker.ok and "RabbitMQ is not reachable" in broker.detail
    assert not broker.detail.endswith(":")
    assert "guest:guest" not in broker.detail


def test_postgres_unreachable_is_out_of_operation(tmp_path: Path, make_app: Any) -> None:
    app = make_app(_settings(tmp_path, database={"url": CLOSED_POSTGRES}), migrate=False)
    app.ensure_buckets()
    started = time.monotonic()
    state = system_state(app, timeout=5, max_age=0)
    assert time.monotonic() - started < 6
    assert state.level == "out_of_operation"
    db = _checks(state)["database"]
    assert not db.ok and db.detail
    assert not state.load.counted
    assert all(c.ok for c in state.checks if c.name != "database")
