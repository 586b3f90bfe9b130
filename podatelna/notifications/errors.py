"""Errors of the notifications. Each carries a stable ``code`` and a sentence saying what and where.

:class:`DeliveryError` with ``permanent=False`` is worth retrying later (the mail server could not
be reached, or answered 4xx); with ``permanent=True`` a retry will not help (5xx: the recipient or
the sender was refused, the login failed). The others are programming errors.
"""

from __future__ import annotations


class NotificationError(Exception):
    """Root of the notification errors."""

    code = "notification_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownNoticeKindError(NotificationError):
    code = "notification_unknown_kind"


class NoticeContextError(NotificationError):
    """A value needed by a template is missing or has the wrong type."""

    code = "notification_context_invalid"


class InvalidAddressError(NotificationError):
    code = "notification_invalid_address"


class DeliveryError(NotificationError):
    """The message could not be handed over; nothing was sent."""

    code = "notification_delivery_failed"

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
