"""The interface every notification backend implements."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from podatelna.notifications.notice import Notice


@runtime_checkable
class Notifier(Protocol):
    def send(self, message: Notice) -> None:
        """Hand ``message`` over for delivery, or raise
        :class:`~podatelna.notifications.errors.DeliveryError`. Sending the same notice (same
        Message-ID) again must be harmless: the outbox keeps one file, SMTP recipients can
        deduplicate by Message-ID."""
        ...


class Clock(Protocol):
    """What the backends need of a clock (``podatelna.clock.Clock`` fits): the ``Date`` header."""

    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
