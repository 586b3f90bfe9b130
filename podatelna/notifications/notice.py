"""A notice: one e-mail to one recipient, rendered but not yet sent, and its RFC 5322 form.

Every notice has a stable ``Message-ID``: derived from an idempotency key when the sender gives
one (``accepted:<submission id>``, ``reminder:<submission id>:<day>``), otherwise from the
notice's content. A retried notice therefore carries the same id, the outbox keeps it as one
file, and a mail system (or a person) can tell a repeat from a new message.

Header values are checked here: an address or subject with a line break is refused, so text that
came from a form cannot add headers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from podatelna.notifications.errors import InvalidAddressError, NotificationError

_PRAGUE = ZoneInfo("Europe/Prague")

KINDS = (
    "accepted",
    "reminder",
    "confirmed",
    "lapsed",
    "receipt_issued",
    "rejected",
    "verify_email",
    "password_reset",
    "account_exists",
)

#: right-hand side of the Message-IDs of notices
MESSAGE_ID_DOMAIN = "podatelna"

# headers the notice sets itself; extra headers may not replace them
_RESERVED = {"from", "to", "subject", "date", "content-type", "content-transfer-encoding"}


def check_address(address: str, *, what: str = "recipient") -> str:
    """``address`` if it is one plain e-mail address (``name@domain``), else an error."""
    if (
        not isinstance(address, str)
        or any(c in address for c in "\r\n\t <>,;\"'")
        or parseaddr(address)[1] != address
        or address.count("@") != 1
        or address.startswith("@")
        or address.endswith("@")
    ):
        raise InvalidAddressError(f"The {what} {address!r} is not one plain e-mail address.")
    return address


def message_id_for(key: str) -> str:
    """The Message-ID derived from an idempotency key."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


@dataclass(frozen=True)
class Notice:
    """A rendered notice, ready for a :class:`~podatelna.notifications.Notifier`."""

    to: str
    subject: str
    #: plain text, UTF-8
    body: str
    kind: str
    #: reference number of the filing ("" when it has none, e.g. a rejected submission)
    reference: str = ""
    submission_id: str = ""
    #: extra headers, e.g. ``(("Message-ID", "<...>"),)``
    headers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        check_address(self.to)
        if self.kind not in KINDS:
            raise NotificationError(
                f"Unknown notice kind {self.kind!r}; known: {', '.join(KINDS)}."
            )
        for name, value in (("subject", self.subject), *self.headers):
            if "\r" in value or "\n" in value:
                raise NotificationError(f"The header {name!r} of a notice contains a line break.")
        for name, _value in self.headers:
            if not name.replace("-", "").isalnum() or name.lower() in _RESERVED:
                raise NotificationError(f"A notice cannot set the header {name!r}.")

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def message_id(self) -> str:
        """The ``Message-ID`` header if given, else one derived from the content."""
        given = self.header("Message-ID")
        if given:
            return given
        content = json.dumps(
            [self.kind, self.to, self.subject, self.body, self.reference, self.submission_id]
        )
        return message_id_for("content:" + content)

    @property
    def notice_id(self) -> str:
        """A file-name-safe stable id (hex), derived from the Message-ID."""
        return hashlib.sha256(self.message_id.encode("utf-8")).hexdigest()[:32]

    def to_email(self, *, sender: str, date: datetime) -> EmailMessage:
        """The RFC 5322 message (``date`` is the ``Date`` header; it must be aware)."""
        check_address(sender, what="sender")
        if date.tzinfo is None:
            raise NotificationError("The Date of a notice needs an aware datetime.")
        msg = EmailMessage(policy=policy.SMTP)
        # set_content first: it drops any Content-* header set before it
        msg.set_content(self.body, subtype="plain", charset="utf-8", cte="quoted-printable")
        msg["From"] = sender
        msg["To"] = self.to
        msg["Subject"] = self.subject
        msg["Date"] = format_datetime(date.astimezone(_PRAGUE))
        msg["Message-ID"] = self.message_id
        msg["Auto-Submitted"] = "auto-generated"
        msg["Content-Language"] = "cs"
        msg["X-Podatelna-Kind"] = self.kind
        if self.reference:
            msg["X-Podatelna-Reference"] = self.reference
        for name, value in self.headers:
            if name.lower() != "message-id":
                msg[name] = value
        return msg

    def to_dict(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "subject": self.subject,
            "body": self.body,
            "kind": self.kind,
            "reference": self.reference,
            "submission_id": self.submission_id,
            "headers": [list(h) for h in self.headers],
            "message_id": self.message_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Notice:
        return cls(
            to=data["to"],
            subject=data["subject"],
            body=data["body"],
            kind=data["kind"],
            reference=data.get("reference", ""),
            submission_id=data.get("submission_id", ""),
            headers=tuple((str(k), str(v)) for k, v in data.get("headers", ())),
        )
