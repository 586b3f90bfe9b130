"""The filesystem backend: a directory on disk (the embedded development default).

Layout: ``<root>/<bucket>/<key>``, one file per object. Each file starts with a fixed 1 KiB
header (magic ``PODOBJ1``, then JSON: content type, size, SHA-256, retention, stored time, padded
with spaces) followed by the bytes as stored, so data and metadata appear together, atomically.

Writes are atomic and durable: the object is written to a temporary file in the target
directory (or the spool directory ``<root>/.spool`` for streamed uploads, same filesystem),
fsynced, then linked under its key with ``os.link`` (fails if the key exists: two processes
writing the same key cannot clobber each other; exactly one link wins) and the directory is
fsynced. The temporary name starts with a dot and keys cannot, so it is never visible as an
object. ``overwrite=True`` uses ``os.replace`` instead.

Limits: retention is enforced by this code only; anyone with access to the directory can still
delete files. Several processes on one machine may write at once; a network filesystem without
atomic ``link`` (some NFS set-ups) is not supported. Temporary files left by a crash are removed
by :meth:`FilesystemStore.sweep_temporaries`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from podatelna.clock import Clock, SystemClock
from podatelna.storage.base import ObjectReader, Source, StoredObject
from podatelna.storage.errors import (
    InvalidKey,
    ObjectExists,
    ObjectLocked,
    ObjectNotFound,
    StorageError,
    StoreUnavailable,
)
from podatelna.storage.keys import Bucket, bucket_of, check_key, content_key
from podatelna.storage.policy import check_content_type, check_retention, is_locked
from podatelna.storage.spool import spool

log = logging.getLogger(__name__)

HEADER_SIZE = 1024
MAGIC = b"PODOBJ1 "
SPOOL_DIR = ".spool"


class FilesystemStore:
    """Objects in a directory tree; see the module documentation for the guarantees."""

    def __init__(self, root: Path | str, *, clock: Clock | None = None) -> None:
        self.root = Path(root).absolute()
        self.clock: Clock = clock or SystemClock()
        log.info(
            "object store: directory %s (embedded default for development; "
            "production uses S3/MinIO with object lock)",
            self.root,
        )

    # -- layout -------------------------------------------------------------------------------

    def _path(self, bucket: Bucket, key: str) -> Path:
        return self.root / bucket.value / check_key(key)

    def _ensure_dir(self, directory: Path) -> None:
        """Create ``directory`` and missing parents, fsyncing each parent of a new one."""
        if directory.is_dir():
            return
        missing = []
        d = directory
        while not d.is_dir():
            missing.append(d)
            d = d.parent
        for d in reversed(missing):
            try:
                d.mkdir()
            except FileExistsError:
                if not d.is_dir():
                    raise InvalidKey(
                        f"{d.relative_to(self.root)} is an object, so it cannot also be a "
                        "prefix of another key on the filesystem backend."
                    ) from None
            _fsync_dir(d.parent)

    # -- header -------------------------------------------------------------------------------

    def _header(
        self, content_type: str, sha256: str, size: int, retain_until: datetime | None
    ) -> bytes:
        meta = {
            "content_type": content_type,
            "sha256": sha256,
            "size": size,
            "retain_until": retain_until.isoformat() if retain_until else None,
            "stored_at": self.clock.now().isoformat(),
        }
        body = MAGIC + json.dumps(meta, separators=(",", ":")).encode()
        if len(body) > HEADER_SIZE - 1:
            raise StorageError("The object's metadata does not fit into the header.")
        return body.ljust(HEADER_SIZE - 1, b" ") + b"\n"

    @staticmethod
    def _parse_header(raw: bytes, bucket: Bucket, key: str, file_size: int) -> StoredObject:
        if len(raw) < HEADER_SIZE or not raw.startswith(MAGIC):
            raise StorageError(f"The file of {bucket}/{key} is not an object of this store.")
        try:
            meta: dict[str, Any] = json.loads(raw[len(MAGIC) : HEADER_SIZE])
        except ValueError:
            raise StorageError(f"The header of {bucket}/{key} is damaged.") from None
        if file_size - HEADER_SIZE != meta["size"]:
            raise StorageError(
                f"The file of {bucket}/{key} holds {file_size - HEADER_SIZE} bytes, "
                f"its header says {meta['size']}."
            )
        ru = meta.get("retain_until")
        return StoredObject(
            bucket=bucket.value,
            key=key,
            size=meta["size"],
            sha256=meta["sha256"],
            content_type=meta["content_type"],
            version_id=None,
            retain_until=datetime.fromisoformat(ru) if ru else None,
        )

    def _read_meta(self, path: Path, bucket: Bucket, key: str) -> StoredObject | None:
        try:
            with path.open("rb") as f:
                raw = f.read(HEADER_SIZE)
                size = os.fstat(f.fileno()).st_size
        except (FileNotFoundError, NotADirectoryError):
            return None
        except IsADirectoryError:
            return None
        return self._parse_header(raw, bucket, key, size)

    # -- the interface ------------------------------------------------------------------------

    def ensure_buckets(self) -> None:
        for b in Bucket:
            self._ensure_dir(self.root / b.value)
        self._ensure_dir(self.root / SPOOL_DIR)

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
        b = bucket_of(bucket)
        path = self._path(b, key)
        check_content_type(content_type)
        retain_until = check_retention(b, retain_until)
        data = bytes(data)
        sha = hashlib.sha256(data).hexdigest()
        header = self._header(content_type, sha, len(data), retain_until)
        self._ensure_dir(path.parent)
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(header)
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            if overwrite:
                if path.is_dir():
                    raise InvalidKey(f"{b}/{key} is a prefix of other keys.")
                existing = self._read_meta(path, b, key)
                if existing is not None and is_locked(existing, self.clock.now()):
                    raise ObjectLocked(b.value, key, existing.retain_until)
                os.replace(tmp_name, path)
            else:
                try:
                    os.link(tmp_name, path)
                except FileExistsError:
                    existing = self._read_meta(path, b, key)
                    if existing is not None and existing.sha256 == sha:
                        return existing
                    raise ObjectExists(b.value, key) from None
            _fsync_dir(path.parent)
        finally:
            _unlink_quietly(tmp_name)
        return StoredObject(b.value, key, len(data), sha, content_type, None, retain_until)

    def put_content_addressed(
        self, bucket: Bucket | str, chunks: Source, *, max_bytes: int, content_type: str
    ) -> StoredObject:
        b = bucket_of(bucket)
        check_content_type(content_type)
        spool_dir = self.root / SPOOL_DIR
        sp = spool(chunks, max_bytes=max_bytes, directory=spool_dir, reserve=HEADER_SIZE)
        try:
            key = content_key(sp.sha256)
            path = self._path(b, key)
            existing = self._read_meta(path, b, key)
            if existing is not None:
                return existing
            assert sp.path is not None  # spooled to a file: in_memory_up_to is 0
            sp.file.seek(0)
            sp.file.write(self._header(content_type, sp.sha256, sp.size, None))
            sp.file.flush()
            os.fsync(sp.file.fileno())
            self._ensure_dir(path.parent)
            try:
                os.link(sp.path, path)
            except FileExistsError:
                # another writer stored the same content in the meantime
                existing = self._read_meta(path, b, key)
                if existing is None:
                    raise StorageError(f"{b}/{key} appeared and vanished while storing.") from None
                return existing
            _fsync_dir(path.parent)
            return StoredObject(b.value, key, sp.size, sp.sha256, content_type, None, None)
        finally:
            sp.discard()

    def get(self, bucket: Bucket | str, key: str) -> bytes:
        with self.open(bucket, key) as r:
            data = r.read()
        if len(data) != r.info.size:
            raise StorageError(f"{bucket}/{key} was cut short while reading.")
        return data

    def open(self, bucket: Bucket | str, key: str) -> ObjectReader:
        b = bucket_of(bucket)
        path = self._path(b, key)
        try:
            f = path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(b.value, key) from None
        try:
            info = self._parse_header(f.read(HEADER_SIZE), b, key, os.fstat(f.fileno()).st_size)
        except BaseException:
            f.close()
            raise
        return ObjectReader(f, info)

    def stat(self, bucket: Bucket | str, key: str) -> StoredObject | None:
        b = bucket_of(bucket)
        return self._read_meta(self._path(b, key), b, key)

    def exists(self, bucket: Bucket | str, key: str) -> bool:
        return self.stat(bucket, key) is not None

    def delete(self, bucket: Bucket | str, key: str) -> None:
        b = bucket_of(bucket)
        path = self._path(b, key)
        existing = self._read_meta(path, b, key)
        if existing is None:
            return
        if is_locked(existing, self.clock.now()):
            raise ObjectLocked(b.value, key, existing.retain_until)
        _unlink_quietly(path)
        _fsync_dir(path.parent)

    def presigned_get_url(
        self, bucket: Bucket | str, key: str, ttl: timedelta, *, filename: str | None = None
    ) -> str | None:
        return None

    def ping(self) -> None:
        if not self.root.is_dir() or not os.access(self.root, os.W_OK):
            raise StoreUnavailable(f"The object directory {self.root} is missing or not writable.")

    def describe(self) -> str:
        return f"filesystem directory {self.root} (development default)"

    def close(self) -> None:
        pass

    def sweep_temporaries(self, older_than: timedelta = timedelta(hours=1)) -> int:
        """Remove temporary files a crashed writer left behind; return how many."""
        cutoff = time.time() - older_than.total_seconds()
        removed = 0
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                if name.startswith((".tmp-", ".spool-")):
                    p = os.path.join(dirpath, name)
                    try:
                        if os.stat(p).st_mtime < cutoff:
                            os.unlink(p)
                            removed += 1
                    except FileNotFoundError:
                        pass
        return removed


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(path: str | Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


__all__ = ["FilesystemStore"]
