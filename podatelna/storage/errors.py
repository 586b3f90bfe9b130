"""Errors of the object store. Each carries a stable ``code`` and a sentence saying what and where.

The application maps :class:`StoreUnavailable` to HTTP 503 (the client may retry), :class:`TooLarge`
to 413, :class:`ObjectNotFound` to 404; the others are programming or policy errors.
"""

from __future__ import annotations


class StorageError(Exception):
    """Root of the object store's errors."""

    code = "storage_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StoreUnavailable(StorageError):
    """The store cannot be reached or answered with a server error; nothing was acknowledged."""

    code = "storage_unavailable"


class ObjectExists(StorageError):
    """A different object is already stored under the key, and objects are never overwritten."""

    code = "storage_object_exists"

    def __init__(self, bucket: str, key: str) -> None:
        super().__init__(
            f"An object with different content is already stored under {bucket}/{key}; "
            "stored objects are never overwritten."
        )
        self.bucket = bucket
        self.key = key


class ObjectNotFound(StorageError):
    code = "storage_object_not_found"

    def __init__(self, bucket: str, key: str) -> None:
        super().__init__(f"No object is stored under {bucket}/{key}.")
        self.bucket = bucket
        self.key = key


class ObjectLocked(StorageError):
    """The object is under retention (object lock) and cannot be deleted or replaced yet."""

    code = "storage_object_locked"

    def __init__(self, bucket: str, key: str, until: object) -> None:
        super().__init__(
            f"The object {bucket}/{key} is retained until {until} and cannot be deleted "
            "or replaced before then."
        )
        self.bucket = bucket
        self.key = key
        self.until = until


class TooLarge(StorageError):
    """More than the allowed number of bytes arrived; the upload was aborted and cleaned up."""

    code = "storage_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"The upload is larger than the limit of {limit} bytes and was refused.")
        self.limit = limit


class InvalidKey(StorageError):
    """An object key that could escape its bucket or is not in the allowed alphabet."""

    code = "storage_invalid_key"


class BucketMisconfigured(StorageError):
    """A bucket exists but lacks what it needs (the receipts bucket without object lock)."""

    code = "storage_bucket_misconfigured"
