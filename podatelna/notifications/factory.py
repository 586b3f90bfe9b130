"""Choosing the backend from ``settings.notifications``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from podatelna.notifications.base import Clock, Notifier
from podatelna.notifications.outbox import OutboxNotifier
from podatelna.notifications.smtp import SmtpNotifier

if TYPE_CHECKING:
    from podatelna.config import NotificationSettings


def build_notifier(
    settings: NotificationSettings, data_dir: Path | str, *, clock: Clock | None = None
) -> Notifier:
    """SMTP when ``settings.kind == "smtp"``; otherwise the outbox under ``outbox_dir`` or
    ``<data_dir>/outbox`` (the development default, which says so in the log)."""
    if settings.kind == "smtp":
        return SmtpNotifier(
            settings.smtp_host,
            settings.smtp_port,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            sender=settings.sender,
            clock=clock,
        )
    directory = Path(settings.outbox_dir) if settings.outbox_dir else Path(data_dir) / "outbox"
    return OutboxNotifier(directory, sender=settings.sender, clock=clock)
