"""Notifications: Czech e-mail notices about filings, sent by SMTP or written to a local outbox.

Render a notice with :func:`render_notice`, hand it to the :class:`Notifier` that
:func:`build_notifier` chose from the settings. Notices carry a stable Message-ID (from an
idempotency key or their content), so sending one twice is harmless.
"""

from __future__ import annotations

from podatelna.notifications.base import Notifier
from podatelna.notifications.errors import (
    DeliveryError,
    InvalidAddressError,
    NoticeContextError,
    NotificationError,
    UnknownNoticeKindError,
)
from podatelna.notifications.factory import build_notifier
from podatelna.notifications.notice import KINDS, Notice, message_id_for
from podatelna.notifications.outbox import OutboxNotifier
from podatelna.notifications.smtp import SmtpNotifier
from podatelna.notifications.templates import (
    CONFIRMATION_METHODS,
    czech_date,
    days_left_phrase,
    render_notice,
)

__all__ = [
    "CONFIRMATION_METHODS",
    "KINDS",
    "DeliveryError",
    "InvalidAddressError",
    "Notice",
    "NoticeContextError",
    "NotificationError",
    "Notifier",
    "OutboxNotifier",
    "SmtpNotifier",
    "UnknownNoticeKindError",
    "build_notifier",
    "czech_date",
    "days_left_phrase",
    "message_id_for",
    "render_notice",
]
