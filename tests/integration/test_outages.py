"""Outages at intake: with the object store or the broker down, intake answers 503, keeps nothing.

Real backends only: a SeaweedFS S3 server of the test's own that the test stops and starts, and
brokers configured on a closed port. A 503 must carry the JSON ``code`` ``unavailable``, and no
submission row (nor outbox message) may have been written: nothing was acknowledged, so the
client may retry. Each outage is followed by the same request against a working backend, which
must be accepted (202), so that the 503 is known to come from the outage and not from the request.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

import schemas
from filing_registry import OutboxMessage, Submission
from podatelna.app import App
from podatelna.config import Settings, load_settings
from podatelna.web.api import create_api
from tests.s3server import S3Server, unique_prefix
from tests.services import RABBITMQ_URL, REDIS_URL, drop_redis_namespace, require_port
from tests.users import sign_in

pytestmark = pytest.mark.integration

SUBMISSIONS = "/api/v1/submissions"
#: nothing listens on port 1 of the loopback interface
CLOSED_REDIS = "redis://127.0.0.1:1/0"
CLOSED_RABBITMQ = "amqp://guest:guest@127.0.0.1:1/"


def _settings(tmp_path: Path) -> Settings:
    """Embedded defaults (SQLite, filesystem store, in-process broker) under ``tmp_path``."""
    return load_settings(environ={"PODATELNA_DATA_DIR": str(tmp_path / "data")})


@contextmanager
def _client(settings: Settings) -> Iterator[tuple[App, TestClient]]:
    app = App(settings)
    try:
        with TestClient(create_api(app)) as client:
            sign_in(client)
            yield app, client
    finally:
        app.close()


def _post(client: TestClient, sender: str = "jana@example.cz") -> httpx.Response:
    form = schemas.sample_path("obecne-podani").read_bytes()
    return client.post(
        SUBMISSIONS,
        files=[
            ("form", ("obecne-podani.xml", form, "application/xml")),
            ("attachments", ("poznamka.txt", b"Dobry den, posilam podani.\n", "text/plain")),
        ],
        data={"sender": sender, "idempotency_key": f"outage-{uuid.uuid4().hex}"},
    )


def _rows(app: App) -> tuple[int, int]:
    with app.sessions() as session:
        subs = session.execute(select(func.count()).select_from(Submission)).scalar_one()
        msgs = session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
    return subs, msgs


def _assert_unavailable(app: App, response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["code"] == "unavailable", body
    assert body["message"]
    assert _rows(app) == (0, 0), "a submission was recorded although intake answered 503"


def _assert_accepted(app: App, response: httpx.Response) -> None:
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["created"] is True
    with app.sessions() as session:
        sub = session.get(Submission, body["id"])
        assert sub is not None and sub.state == "received"
    assert _rows(app)[0] == 1


def test_object_store_down_gives_503_and_keeps_nothing(
    s3_server_private: S3Server, tmp_path: Path
) -> None:
    server = s3_server_private
    settings = _settings(tmp_path).replace(storage=server.storage_settings(unique_prefix()))
    with _client(settings) as (app, client):
        server.stop()
        _assert_unavailable(app, _post(client))
        server.start()
        response = _post(client)
        _assert_accepted(app, response)
        sub_id = response.json()["id"]
        with app.sessions() as session:
            sub = session.get(Submission, sub_id)
            assert sub is not None
            keys = [f.storage_key for f in sub.files]
        assert len(keys) == 2
        assert all(app.store.exists("submissions", key) for key in keys)


def _closed_then_open(tmp_path: Path, kind: str, closed: str, working: str) -> None:
    base = _settings(tmp_path)
    namespace = f"outage{uuid.uuid4().hex[:10]}"
    down = base.replace(broker={"kind": kind, "url": closed, "namespace": namespace})
    with _client(down) as (app, client):
        _assert_unavailable(app, _post(client))
    objects = base.storage_root / "submissions"
    stored = [p for p in objects.rglob("*") if p.is_file()] if objects.exists() else []
    assert stored == [], f"blobs were stored although the broker was down: {stored}"
    up = base.replace(broker={"kind": kind, "url": working, "namespace": namespace})
    with _client(up) as (app, client):
        try:
            _assert_accepted(app, _post(client))
        finally:
            _drop_queues(app, kind, working, namespace)


def _drop_queues(app: App, kind: str, url: str, namespace: str) -> None:
    """Remove what the accepted submission left on the shared broker (queues of ``namespace``)."""
    if kind == "redis":
        drop_redis_namespace(namespace, url)
        return
    from dramatiq.common import dq_name, xq_name

    broker = app.pipeline.broker
    for queue in list(broker.get_declared_queues()):
        for name in (queue, dq_name(queue), xq_name(queue)):
            broker.channel.queue_delete(name)  # type: ignore[attr-defined]


def _host_port(url: str, default: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default


def test_redis_down_gives_503_and_keeps_nothing(tmp_path: Path) -> None:
    require_port("Redis", *_host_port(REDIS_URL, 6379))
    _closed_then_open(tmp_path, "redis", CLOSED_REDIS, REDIS_URL)


def test_rabbitmq_down_gives_503_and_keeps_nothing(tmp_path: Path) -> None:
    require_port("RabbitMQ", *_host_port(RABBITMQ_URL, 5672))
    _closed_then_open(tmp_path, "rabbitmq", CLOSED_RABBITMQ, RABBITMQ_URL)
