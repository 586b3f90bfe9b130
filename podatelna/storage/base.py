"""The object store interface: one protocol, two backends (a directory on disk, and S3).

Guarantees every backend gives:

* an object is visible under its key only when it is complete (no partial objects);
* an object is never overwritten unless ``put(..., overwrite=True)`` is asked for; a second
  ``put`` of *identical* bytes returns the stored object (idempotent re-issue), different bytes
  raise :class:`~podatelna.storage.errors.ObjectExists`;
* content-addressed puts stream: the data is spooled to a temporary file while its SHA-256 is
  computed, never held in memory as a whole, and refused with ``TooLarge`` as soon as more than
  the limit arrived;
* an object stored with ``retain_until`` cannot be deleted or replaced through this interface
  before that moment;
* failures to reach the store surface as ``StoreUnavailable``, quickly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, BinaryIO, Protocol, runtime_checkable

from podatelna.storage.keys import Bucket

CHUNK_SIZE = 64 * 1024


@dataclass(frozen=True)
class StoredObject:
    """What the store holds under a key (one version of it on S3)."""

    bucket: str
    key: str
    size: int
    sha256: str
    content_type: str
    version_id: str | None = None
    #: retention (object lock) until this moment, if any
    retain_until: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["retain_until"] = self.retain_until.isoformat() if self.retain_until else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StoredObject:
        ru = d.get("retain_until")
        return cls(
            bucket=d["bucket"],
            key=d["key"],
            size=int(d["size"]),
            sha256=d["sha256"],
            content_type=d["content_type"],
            version_id=d.get("version_id"),
            retain_until=datetime.fromisoformat(ru) if ru else None,
        )


class ObjectReader:
    """A streaming reader of one stored object: ``read(n)``, iteration in chunks, ``close()``.

    Use it as a context manager, or iterate it to the end (iteration closes it). ``translate``
    turns backend errors raised while reading into storage errors.
    """

    def __init__(
        self,
        raw: Any,
        info: StoredObject,
        *,
        on_close: Callable[[], None] | None = None,
        translate: Callable[[BaseException], BaseException] | None = None,
    ) -> None:
        self._raw = raw
        self.info = info
        self._on_close = on_close
        self._translate = translate
        self.closed = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._raw.read() if size is None or size < 0 else self._raw.read(size)
        except Exception as exc:  # noqa: BLE001 - translated into a storage error
            if self._translate is None:
                raise
            raise self._translate(exc) from exc
        return bytes(data)

    def iter_chunks(self, size: int = CHUNK_SIZE) -> Iterator[bytes]:
        try:
            while chunk := self.read(size):
                yield chunk
        finally:
            self.close()

    def __iter__(self) -> Iterator[bytes]:
        return self.iter_chunks()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self._raw.close()
        finally:
            if self._on_close is not None:
                self._on_close()

    def __enter__(self) -> ObjectReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


#: what ``put_content_addressed`` accepts: an iterable of byte chunks or a binary file
Source = Iterable[bytes] | BinaryIO


@runtime_checkable
class ObjectStore(Protocol):
    """One interface over both backends; ``bucket`` is a :class:`Bucket` or its name."""

    def ensure_buckets(self) -> None:
        """Create the buckets that are missing (idempotent)."""

    def put(
        self,
        bucket: Bucket | str,
        key: str,
        data: bytes,
        *,
        content_type: str,
        retain_until: datetime | None = None,
        overwrite: bool = False,
    ) -> StoredObject:
        """Store ``data`` under ``key``; never overwrite unless asked (see the module docs)."""
        ...

    def put_content_addressed(
        self, bucket: Bucket | str, chunks: Source, *, max_bytes: int, content_type: str
    ) -> StoredObject:
        """Stream ``chunks`` into ``sha256/<2 hex>/<hex>``; return the stored object."""
        ...

    def get(self, bucket: Bucket | str, key: str) -> bytes: ...

    def open(self, bucket: Bucket | str, key: str) -> ObjectReader: ...

    def stat(self, bucket: Bucket | str, key: str) -> StoredObject | None: ...

    def exists(self, bucket: Bucket | str, key: str) -> bool: ...

    def delete(self, bucket: Bucket | str, key: str) -> None:
        """Delete the object (all its versions); no-op when absent; ``ObjectLocked`` if retained."""

    def presigned_get_url(
        self, bucket: Bucket | str, key: str, ttl: timedelta, *, filename: str | None = None
    ) -> str | None:
        """A time-limited download URL, or ``None`` if the backend has none (filesystem)."""
        ...

    def ping(self) -> None:
        """Return if the store answers; raise ``StoreUnavailable`` within about two seconds."""

    def describe(self) -> str:
        """One line for logs and ``health``: which backend, where."""
        ...

    def close(self) -> None:
        """Release connections and file handles."""
