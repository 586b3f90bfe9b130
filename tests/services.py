"""Helpers for tests that need a real service.

A test that needs a service (PostgreSQL, Redis, RabbitMQ, an S3 server, a Debian tool) skips on a
developer's machine where the service is missing, but **fails** when ``CI=true``: CI must never
go green by skipping what it was meant to check.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

POSTGRES_URL = os.environ.get(
    "PODATELNA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("PODATELNA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RABBITMQ_URL = os.environ.get("PODATELNA_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


def missing(what: str) -> None:
    """Skip the current test because ``what`` is unavailable, or fail it in CI."""
    if IN_CI:
        pytest.fail(f"{what} is not available, and CI=true: service tests must not skip in CI")
    pytest.skip(f"{what} is not available")


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_port(name: str, host: str, port: int) -> None:
    if not port_open(host, port):
        missing(f"{name} on {host}:{port}")


def real_broker(kind: str) -> dict[str, str]:
    """The ``broker`` settings for the real ``kind`` server ("redis" or "rabbitmq"), with a
    namespace of the test's own; skips (fails in CI) where that server is not running."""
    namespace = f"t{uuid.uuid4().hex[:8]}"
    if kind == "redis":
        require_port("Redis", "127.0.0.1", 6379)
        return {"kind": "redis", "url": REDIS_URL, "namespace": namespace}
    require_port("RabbitMQ", "127.0.0.1", 5672)
    return {"kind": "rabbitmq", "url": RABBITMQ_URL, "namespace": namespace}


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(f"the command {name!r}")
    assert path is not None
    return path


def drop_redis_namespace(namespace: str, url: str = REDIS_URL) -> None:
    """Delete every key of ``namespace`` (a test's broker queues) from the shared Redis."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{namespace}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
