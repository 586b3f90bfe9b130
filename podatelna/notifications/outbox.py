"""The embedded default backend: e-mails written as ``.eml`` files to a local directory.

For development and tests only - nothing leaves the machine, and the backend says so in the log
when it starts. Each message is written atomically: to a temporary file in the same directory
(name starting with a dot), fsynced, then linked under ``<notice id>.eml`` and the directory
fsynced. The name is derived from the Message-ID, so the same notice sent twice (a retried task,
two workers at once) stays one file; the first copy written wins.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import cast

from podatelna.notifications.base import Clock, SystemClock
from podatelna.notifications.errors import DeliveryError
from podatelna.notifications.notice import Notice, check_address

log = logging.getLogger(__name__)


class OutboxNotifier:
    def __init__(
        self,
        directory: Path | str,
        *,
        sender: str = "podatelna@localhost",
        clock: Clock | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.sender = check_address(sender, what="sender")
        self.clock: Clock = clock or SystemClock()
        self.directory.mkdir(parents=True, exist_ok=True)
        log.warning(
            "notifications: the outbox backend writes e-mails to %s instead of sending them "
            '(development default; set notifications.kind = "smtp" to send them)',
            self.directory.resolve(),
        )

    def path_for(self, message: Notice) -> Path:
        return self.directory / f"{message.notice_id}.eml"

    def send(self, message: Notice) -> None:
        path = self.path_for(message)
        if path.exists():
            log.debug("notice %s is already in the outbox", message.message_id)
            return
        data = message.to_email(sender=self.sender, date=self.clock.now()).as_bytes()
        try:
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".eml")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                with contextlib.suppress(FileExistsError):  # another writer was first
                    os.link(tmp, path)
            finally:
                os.unlink(tmp)
            _fsync_dir(self.directory)
        except OSError as exc:
            raise DeliveryError(
                f"Could not write the notice {message.message_id} to the outbox "
                f"{self.directory}: {exc}."
            ) from exc
        log.info("notice %s (%s) written to %s", message.message_id, message.kind, path)

    def messages(self) -> list[EmailMessage]:
        """The messages in the outbox, oldest first (for tests and development)."""
        files = sorted(self.directory.glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name))
        return [
            cast(EmailMessage, message_from_bytes(p.read_bytes(), policy=policy.default))
            for p in files
        ]


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
