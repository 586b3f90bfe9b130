"""Bucket names and object keys.

Keys come from our own code (content hashes, reference numbers), never verbatim from a client,
but they are still validated so that no key can escape its bucket on the filesystem backend or
clash with the backend's own files: slash-separated components of ``A-Z a-z 0-9 . _ - = + @ ,``,
none empty, none starting with a dot (so no ``..``, no hidden files), no leading slash, at most
512 characters.
"""

from __future__ import annotations

import re
from enum import StrEnum

from podatelna.storage.errors import InvalidKey


class Bucket(StrEnum):
    """Logical buckets; the S3 backend prefixes them (``podatelna-receipts``)."""

    SUBMISSIONS = "submissions"
    RECEIPTS = "receipts"
    EXPORTS = "exports"


#: buckets whose objects may carry a retention date (object lock on S3)
LOCKABLE_BUCKETS = frozenset({Bucket.RECEIPTS})

MAX_KEY_LENGTH = 512
_COMPONENT = re.compile(r"[A-Za-z0-9_\-=+@,][A-Za-z0-9._\-=+@,]*")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def bucket_of(bucket: Bucket | str) -> Bucket:
    try:
        return Bucket(bucket)
    except ValueError:
        known = ", ".join(b.value for b in Bucket)
        raise InvalidKey(f"{bucket!r} is not a bucket of the store; known: {known}.") from None


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe object key, or raise :class:`InvalidKey`."""
    if not isinstance(key, str) or not key:
        raise InvalidKey("An object key must be a non-empty string.")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(f"The object key is longer than {MAX_KEY_LENGTH} characters.")
    for part in key.split("/"):
        if not _COMPONENT.fullmatch(part):
            raise InvalidKey(
                f"The object key {key!r} is not allowed: each '/'-separated part must be "
                "non-empty, must not start with a dot and may use only letters, digits and ._-=+@,"
            )
    return key


def content_key(sha256_hex: str) -> str:
    """The key of a content-addressed object: ``sha256/<first two hex digits>/<hex>``."""
    if not _HEX64.fullmatch(sha256_hex):
        raise InvalidKey(f"{sha256_hex!r} is not a lower-case SHA-256 hex digest.")
    return f"sha256/{sha256_hex[:2]}/{sha256_hex}"
