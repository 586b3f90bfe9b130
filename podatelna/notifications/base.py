"""The interface every notification backend implements."""

from __future__ import annotations

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
