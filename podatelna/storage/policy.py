"""Checks shared by both backends: content types, retention dates, whether an object is locked."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from podatelna.storage.base import StoredObject
from podatelna.storage.errors import StorageError
from podatelna.storage.keys import LOCKABLE_BUCKETS, Bucket

#: printable ASCII only: the value travels in an HTTP header (no CR/LF injection)
_CONTENT_TYPE = re.compile(r"[\x21-\x7e][\x20-\x7e]{0,199}")


def check_content_type(content_type: str) -> None:
    """Accept a media type (with parameters) of at most 200 printable ASCII characters."""
    if not isinstance(content_type, str) or not _CONTENT_TYPE.fullmatch(content_type):
        raise StorageError(
            f"{content_type!r} is not a content type the store accepts "
            "(1 to 200 printable ASCII characters)."
        )


def check_retention(bucket: Bucket, retain_until: datetime | None) -> datetime | None:
    """Validate a retention date; return it in UTC, rounded up to the whole second (S3 keeps
    seconds), or ``None``."""
    if retain_until is None:
        return None
    if bucket not in LOCKABLE_BUCKETS:
        raise StorageError(
            f"Objects in the {bucket} bucket cannot carry a retention date; "
            f"only {', '.join(sorted(LOCKABLE_BUCKETS))} is locked."
        )
    if retain_until.tzinfo is None:
        raise StorageError("A retention date must be timezone-aware.")
    rounded = retain_until.astimezone(UTC).replace(microsecond=0)
    return rounded if rounded == retain_until else rounded + timedelta(seconds=1)


def is_locked(obj: StoredObject, now: datetime) -> bool:
    return obj.retain_until is not None and now < obj.retain_until
