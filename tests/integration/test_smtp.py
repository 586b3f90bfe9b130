"""Notices sent through SmtpNotifier to a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from podatelna.notifications import DeliveryError, SmtpNotifier, render_notice

pytestmark = pytest.mark.integration

TO = "jana.novakova@example.cz"
SENDER = "podatelna@mmo.example"


class FrozenClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


CLOCK = FrozenClock(datetime(2026, 11, 24, 13, 6, tzinfo=UTC))


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Collector:
    """An aiosmtpd handler that keeps every message it accepts."""

    messages: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = cast(EmailMessage, message_from_bytes(envelope.content, policy=policy.default))
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Collector, int]]:
    handler = Collector()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def accepted_notice() -> Any:
    return render_notice(
        "accepted",
        to=TO,
        context={
            "reference": "MMO/00042/2026",
            "submission_id": "sub-1",
            "received_at": datetime(2026, 11, 24, 13, 5, tzinfo=UTC),
            "confirmation_needed": True,
            "deadline": date(2026, 11, 30),
            "office_name": "Magistrát města Ostravy",
            "office_address": "Prokešovo náměstí 8, 702 00 Ostrava",
        },
        idempotency_key="accepted:sub-1",
    )


def test_accepted_notice_arrives_with_the_deadline(smtp_server: tuple[Collector, int]) -> None:
    handler, port = smtp_server
    notice = accepted_notice()
    SmtpNotifier("127.0.0.1", port, sender=SENDER, clock=CLOCK).send(notice)

    [got] = handler.messages
    assert got.mail_from == SENDER
    assert got.rcpt_tos == [TO]
    msg = got.message
    assert msg["To"] == TO
    assert msg["Subject"] == "Podání MMO/00042/2026 bylo přijato – potvrďte je do 30. 11. 2026"
    assert msg["Message-ID"] == notice.message_id
    assert msg.get_content_charset() == "utf-8"
    body = msg.get_content()
    assert "Poslední den lhůty je 30. 11. 2026 (pondělí)." in body
    assert "Evidenční číslo: MMO/00042/2026" in body
    assert "vlastnoručně podepsaný stejnopis" in body


def test_reminder_and_lapse_carry_the_deadline(smtp_server: tuple[Collector, int]) -> None:
    handler, port = smtp_server
    notifier = SmtpNotifier("127.0.0.1", port, sender=SENDER, clock=CLOCK)
    notifier.send(
        render_notice(
            "reminder",
            to=TO,
            context={"reference": "MMO/00042/2026", "deadline": "2027-01-04", "days_left": 1},
            idempotency_key="reminder:sub-1:5",
        )
    )
    notifier.send(
        render_notice(
            "lapsed",
            to=TO,
            context={"reference": "MMO/00042/2026", "deadline": "2027-01-04", "rules": "sr"},
        )
    )
    reminder, lapsed = (r.message for r in handler.messages)
    assert reminder["Subject"] == "Připomínka: potvrďte podání MMO/00042/2026 do 4. 1. 2027"
    assert "končí 4. 1. 2027 (pondělí); zbývá 1 den." in reminder.get_content()
    assert lapsed["Subject"] == "Podání MMO/00042/2026 nebylo včas potvrzeno"
    assert "uplynula dne 4. 1. 2027" in lapsed.get_content()


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, for the test server's STARTTLS."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_starttls_and_login(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any):
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"heslo", handled=False)

    handler = Collector()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    controller.start()
    try:

        def notifier(password: str, **kw: Any) -> SmtpNotifier:
            return SmtpNotifier(
                "127.0.0.1",
                port,
                username="podatelna",
                password=password,
                sender=SENDER,
                clock=CLOCK,
                **kw,
            )

        notifier("heslo", starttls=True, ssl_context=client_tls).send(accepted_notice())
        with pytest.raises(DeliveryError) as wrong_password:
            notifier("spatne", starttls=True, ssl_context=client_tls).send(accepted_notice())
        with pytest.raises(DeliveryError) as no_tls:
            notifier("heslo").send(accepted_notice())
        with pytest.raises(DeliveryError) as untrusted:
            notifier("heslo", starttls=True).send(accepted_notice())  # system trust store
    finally:
        controller.stop()
    assert wrong_password.value.permanent
    assert no_tls.value.permanent  # 530 STARTTLS required
    assert not untrusted.value.permanent
    # smtplib tries each mechanism the server offers before giving up on a wrong password
    assert logins[0] == (b"podatelna", b"heslo")
    assert set(logins[1:]) == {(b"podatelna", b"spatne")}
    [got] = handler.messages
    assert "Poslední den lhůty je 30. 11. 2026" in got.message.get_content()


def test_refused_recipient_is_permanent(smtp_server: tuple[Collector, int]) -> None:
    handler, port = smtp_server
    handler.refuse.add(TO)
    with pytest.raises(DeliveryError) as exc:
        SmtpNotifier("127.0.0.1", port, sender=SENDER, clock=CLOCK).send(accepted_notice())
    assert exc.value.permanent
    assert exc.value.code == "notification_delivery_failed"
    assert handler.messages == []


def test_no_server_is_a_retryable_error() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(DeliveryError) as exc:
        SmtpNotifier("127.0.0.1", port, timeout=2, sender=SENDER, clock=CLOCK).send(
            accepted_notice()
        )
    assert not exc.value.permanent
    assert f"127.0.0.1:{port}" in str(exc.value)
