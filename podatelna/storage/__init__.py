"""The object store: one interface (:class:`ObjectStore`), two backends chosen by
``settings.storage.kind``: a directory on disk (embedded default) and S3 (MinIO in production).

Buckets: ``submissions`` (raw bytes, content-addressed by SHA-256, never overwritten),
``receipts`` (object lock on S3: stored receipts cannot be replaced or deleted early) and
``exports``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podatelna.storage.base import ObjectReader, ObjectStore, Source, StoredObject
from podatelna.storage.errors import (
    BucketMisconfigured,
    InvalidKey,
    ObjectExists,
    ObjectLocked,
    ObjectNotFound,
    StorageError,
    StoreUnavailable,
    TooLarge,
)
from podatelna.storage.filesystem import FilesystemStore
from podatelna.storage.keys import LOCKABLE_BUCKETS, Bucket, check_key, content_key

if TYPE_CHECKING:
    from podatelna.clock import Clock
    from podatelna.config import Settings
    from podatelna.storage.s3 import S3Store


def build_store(settings: Settings, *, clock: Clock | None = None) -> ObjectStore:
    """The store the settings choose (not yet connected; call ``ensure_buckets`` at set-up)."""
    st = settings.storage
    if st.kind == "s3":
        from podatelna.storage.s3 import S3Store

        if not st.endpoint:
            raise StorageError("storage.kind is s3 but storage.endpoint is empty.")
        return S3Store(
            st.endpoint,
            st.access_key,
            st.secret_key,
            secure=st.secure,
            region=st.region,
            bucket_prefix=st.bucket_prefix,
            spool_dir=settings.data_path / "spool",
            clock=clock,
        )
    return FilesystemStore(settings.storage_root, clock=clock)


def __getattr__(name: str) -> type[S3Store]:
    # the S3 backend (and minio) is imported only when asked for
    if name == "S3Store":
        from podatelna.storage.s3 import S3Store

        return S3Store
    raise AttributeError(name)


__all__ = [
    "LOCKABLE_BUCKETS",
    "Bucket",
    "BucketMisconfigured",
    "FilesystemStore",
    "InvalidKey",
    "ObjectExists",
    "ObjectLocked",
    "ObjectNotFound",
    "ObjectReader",
    "ObjectStore",
    "S3Store",
    "Source",
    "StorageError",
    "StoreUnavailable",
    "StoredObject",
    "TooLarge",
    "build_store",
    "check_key",
    "content_key",
]
