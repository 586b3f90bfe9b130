"""Sending notices through an SMTP server (smtplib), optionally with STARTTLS and a login.

One connection per message: notices are few, and a long-lived connection would have to survive
server timeouts. Failures become :class:`DeliveryError`; ``permanent`` tells a task whether a
retry can help (4xx replies and network errors: yes; 5xx replies: no).

Limits: no implicit TLS (port 465) - use STARTTLS; the server's certificate is checked against
the system's trust store when STARTTLS is on.
"""

from __future__ import annotations

import logging
import smtplib
import ssl

from podatelna.notifications.base import Clock, SystemClock
from podatelna.notifications.errors import DeliveryError
from podatelna.notifications.notice import Notice, check_address

log = logging.getLogger(__name__)


class SmtpNotifier:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10,
        sender: str = "podatelna@localhost",
        clock: Clock | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.starttls = starttls
        self.username = username
        self.password = password
        self.timeout = timeout
        self.sender = check_address(sender, what="sender")
        self.clock: Clock = clock or SystemClock()
        self.ssl_context = ssl_context

    def send(self, message: Notice) -> None:
        email = message.to_email(sender=self.sender, date=self.clock.now())
        where = f"the SMTP server {self.host}:{self.port}"
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(email, from_addr=self.sender, to_addrs=[message.to])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _msg in exc.recipients.values()]
            raise DeliveryError(
                f"{where} refused the recipient {message.to}: {exc.recipients}.",
                permanent=all(c >= 500 for c in codes),
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"{where} answered {exc.smtp_code} {exc.smtp_error!r} while sending the notice "
                f"{message.message_id}.",
                permanent=exc.smtp_code >= 500,
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(
                f"{where} does not support what was asked ({str(exc).rstrip('.')}); if it offers "
                "login only over TLS, set notifications.smtp_starttls = true.",
                permanent=True,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"Could not send the notice {message.message_id} through {where}: "
                f"{str(exc).rstrip('.')}. "
                "Check notifications.smtp_host and smtp_port; the notice can be sent again.",
            ) from exc
        log.info(
            "notice %s (%s) sent to %s via %s", message.message_id, message.kind, message.to, where
        )
