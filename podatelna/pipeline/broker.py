"""The message broker chosen by the settings: in-process (embedded default), Redis, RabbitMQ."""

from __future__ import annotations

import logging
import time

import dramatiq
from dramatiq.brokers.stub import StubBroker

from podatelna.config import BrokerSettings

log = logging.getLogger(__name__)


def build_broker(settings: BrokerSettings) -> dramatiq.Broker:
    if settings.kind == "redis":
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(
            url=settings.url or "redis://127.0.0.1:6379/0",
            namespace=settings.namespace,
            heartbeat_timeout=15000,
        )
    if settings.kind == "rabbitmq":
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(
            url=settings.url or "amqp://guest:guest@127.0.0.1:5672/", confirm_delivery=True
        )
    log.warning("broker: in-process (embedded default; workers run inside this process only)")
    broker = StubBroker()
    broker.emit_after("process_boot")
    return broker


def ping_broker(settings: BrokerSettings, timeout: float = 1.0) -> None:
    """Raise ``ConnectionError`` quickly when the configured broker cannot be reached."""
    if settings.kind == "redis":
        import redis

        client = redis.Redis.from_url(
            settings.url or "redis://127.0.0.1:6379/0",
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
        )
        try:
            client.ping()
        except redis.RedisError as exc:
            raise ConnectionError(f"Redis is not reachable: {exc}") from exc
        finally:
            client.close()
    elif settings.kind == "rabbitmq":
        import pika

        params = pika.URLParameters(settings.url or "amqp://guest:guest@127.0.0.1:5672/")
        params.socket_timeout = timeout
        params.connection_attempts = 1
        params.blocked_connection_timeout = timeout
        start = time.monotonic()
        try:
            pika.BlockingConnection(params).close()
        except Exception as exc:  # noqa: BLE001 - pika raises many kinds
            raise ConnectionError(
                f"RabbitMQ is not reachable ({time.monotonic() - start:.1f} s): {exc}"
            ) from exc
