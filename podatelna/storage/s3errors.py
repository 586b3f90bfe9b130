"""Translation of the minio client's and urllib3's errors into storage errors.

Anything that means "the store cannot serve us now" (connection refused or reset, timeouts,
HTTP 5xx, a non-S3 answer from a proxy, a missing bucket, rejected credentials) becomes
:class:`StoreUnavailable`, which the application answers with 503.
"""

from __future__ import annotations

import urllib3.exceptions
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError

from podatelna.storage.errors import ObjectNotFound, StorageError, StoreUnavailable

_CREDENTIALS = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"}


def translate(exc: BaseException, where: str, bucket: str = "", key: str = "") -> StorageError:
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, S3Error):
        status = getattr(exc.response, "status", 0) or 0
        if exc.code in {"NoSuchKey", "NoSuchVersion"} and key:
            return ObjectNotFound(bucket, key)
        if status >= 500 or exc.code in {"SlowDown", "ServiceUnavailable", "InternalError"}:
            return StoreUnavailable(
                f"The object store at {where} answered with a server error ({exc.code}, "
                f"HTTP {status}); try again later."
            )
        if exc.code == "NoSuchBucket":
            return StoreUnavailable(
                f"The bucket {bucket} does not exist at {where}; run the set-up that creates "
                "the buckets (ensure_buckets)."
            )
        if exc.code in _CREDENTIALS:
            return StoreUnavailable(
                f"The object store at {where} refused our credentials or permissions "
                f"({exc.code}) for {bucket}/{key}; check storage.access_key and secret_key."
            )
        return StorageError(
            f"The object store at {where} refused the request for {bucket}/{key}: "
            f"{exc.code}: {exc.message}"
        )
    if isinstance(exc, ServerError | InvalidResponseError):
        return StoreUnavailable(f"The object store at {where} answered unexpectedly: {exc}")
    if isinstance(exc, urllib3.exceptions.HTTPError | OSError):
        return StoreUnavailable(
            f"The object store at {where} cannot be reached ({type(exc).__name__}); "
            "try again later."
        )
    if isinstance(exc, MinioException):
        return StorageError(f"The object store at {where} failed: {exc}")
    raise exc
