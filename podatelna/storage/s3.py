"""The S3 backend (MinIO in production; SeaweedFS in the tests) through the ``minio`` client.

Buckets are ``<bucket_prefix><name>``: ``submissions`` (versioned), ``receipts`` (versioned, created
with object lock) and ``exports``.

What "never overwritten" means here:

* ``put`` sends ``If-None-Match: *`` (a conditional write; honoured by MinIO, AWS S3 and
  SeaweedFS 4.x, which answer 412 when the key exists). A concurrent second writer therefore
  cannot replace the first one's object; identical bytes are recognised by the SHA-256 kept in
  the object's metadata (``x-amz-meta-sha256``) and returned as the existing object.
  The conditional header is sent through the client's internal ``_put_object`` (the public
  ``put_object`` turns unknown headers into user metadata); minio is pinned below 8.
* content-addressed uploads are spooled (in memory up to 1 MiB, else to a file in
  ``spool_dir``) while hashed; up to 5 MiB they are written with one conditional PUT and no
  other request (412: the content is there already, nothing is overwritten, and the object
  is returned as known from its bytes, version id unknown); larger ones are uploaded in 5 MiB
  parts after a ``stat`` (multipart uploads are not conditional, but two writers of the same
  key write the same bytes by construction; versioning keeps both versions).
* ``retain_until`` sets object lock retention in **COMPLIANCE** mode: the server then refuses to
  delete that version or shorten its retention, for anyone (GOVERNANCE can be bypassed by a
  privileged user and is not used). A plain S3 PUT over a retained key still succeeds on S3 as a
  *new version* (the retained version stays); this interface refuses it (``ObjectLocked``), and
  a ``DELETE`` without a version id only adds a delete marker, which this interface also refuses.

Timeouts: connect 2 s, read 5 s (between bytes), one retry of a failed connection only, so
that an unreachable store surfaces as ``StoreUnavailable`` within seconds; ``ping`` uses its own
connection pool with 1 s / 1.5 s and no retry.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import urllib3
from minio import Minio
from minio.commonconfig import ENABLED
from minio.error import MinioException, S3Error
from minio.versioningconfig import VersioningConfig
from urllib3.util import Retry, Timeout

from podatelna.clock import Clock, SystemClock
from podatelna.storage.base import ObjectReader, Source, StoredObject
from podatelna.storage.errors import (
    BucketMisconfigured,
    ObjectExists,
    ObjectLocked,
    ObjectNotFound,
    StorageError,
)
from podatelna.storage.keys import LOCKABLE_BUCKETS, Bucket, bucket_of, check_key, content_key
from podatelna.storage.policy import check_content_type, check_retention, is_locked
from podatelna.storage.s3errors import translate
from podatelna.storage.spool import spool

log = logging.getLogger(__name__)

VERSIONED_BUCKETS = frozenset({Bucket.SUBMISSIONS, Bucket.RECEIPTS})
SINGLE_PUT_MAX = 5 * 1024 * 1024
#: uploads up to this size are spooled in memory, larger ones to a file in spool_dir
IN_MEMORY_MAX = 1024 * 1024
PART_SIZE = 5 * 1024 * 1024
SHA_META = "x-amz-meta-sha256"
LOCK_MODE = "COMPLIANCE"
_TRANSPORT_ERRORS = (MinioException, urllib3.exceptions.HTTPError, OSError)


def parse_endpoint(endpoint: str, secure: bool) -> tuple[str, bool]:
    """``host:port`` and whether to use TLS, from ``http(s)://host:port`` or ``host:port``."""
    if "://" in endpoint:
        u = urllib.parse.urlsplit(endpoint)
        if u.scheme not in ("http", "https") or not u.netloc or u.path not in ("", "/"):
            raise StorageError(f"The S3 endpoint {endpoint!r} must be http(s)://host[:port].")
        return u.netloc, u.scheme == "https"
    if not endpoint or "/" in endpoint:
        raise StorageError(f"The S3 endpoint {endpoint!r} must be host[:port].")
    return endpoint, secure


class S3Store:
    """Objects in S3 buckets; see the module documentation for the guarantees."""

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        *,
        secure: bool = True,
        region: str = "",
        bucket_prefix: str = "podatelna-",
        spool_dir: Path | str | None = None,
        clock: Clock | None = None,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
    ) -> None:
        host, tls = parse_endpoint(endpoint, secure)
        self.where = f"{'https' if tls else 'http'}://{host}"
        self.bucket_prefix = bucket_prefix
        self.region = region or "us-east-1"
        self.spool_dir = Path(spool_dir) if spool_dir else Path(tempfile.gettempdir())
        self.clock: Clock = clock or SystemClock()
        self._http = urllib3.PoolManager(
            timeout=Timeout(connect=connect_timeout, read=read_timeout),
            maxsize=16,
            cert_reqs="CERT_REQUIRED",
            retries=Retry(
                total=1, connect=1, read=0, status=0, other=0, redirect=0, backoff_factor=0.1
            ),
        )
        self._ping_http = urllib3.PoolManager(
            timeout=Timeout(connect=1.0, read=1.5),
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            retries=Retry(total=0, read=0, redirect=0),
        )
        kw: dict[str, Any] = {"secure": tls, "region": self.region}
        self._client = Minio(host, access_key, secret_key, http_client=self._http, **kw)
        self._ping_client = Minio(host, access_key, secret_key, http_client=self._ping_http, **kw)

    # -- names --------------------------------------------------------------------------------

    def bucket_name(self, bucket: Bucket | str) -> str:
        return f"{self.bucket_prefix}{bucket_of(bucket).value}"

    def _fail(self, exc: BaseException, bucket: Bucket | str = "", key: str = "") -> StorageError:
        return translate(exc, self.where, self.bucket_name(bucket) if bucket else "", key)

    # -- buckets ------------------------------------------------------------------------------

    def ensure_buckets(self) -> None:
        c = self._client
        for b in Bucket:
            name = self.bucket_name(b)
            lock = b in LOCKABLE_BUCKETS
            try:
                if not c.bucket_exists(name):
                    try:
                        c.make_bucket(name, object_lock=lock)
                    except S3Error as exc:
                        if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                            raise
                if b in VERSIONED_BUCKETS and c.get_bucket_versioning(name).status != ENABLED:
                    c.set_bucket_versioning(name, VersioningConfig(ENABLED))
                if lock:
                    try:
                        c.get_object_lock_config(name)
                    except S3Error as exc:
                        if "ObjectLock" not in (exc.code or ""):
                            raise
                        raise BucketMisconfigured(
                            f"The bucket {name} at {self.where} exists without object lock; "
                            "receipts need it. Object lock can only be enabled when a bucket is "
                            "created: move its objects and recreate it."
                        ) from None
            except _TRANSPORT_ERRORS as exc:
                raise self._fail(exc, b) from exc

    # -- writing ------------------------------------------------------------------------------

    def _headers(
        self, content_type: str, sha: str, retain_until: datetime | None
    ) -> dict[str, Any]:
        headers: dict[str, Any] = {"Content-Type": content_type, SHA_META: sha}
        if retain_until is not None:
            until = retain_until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            headers["x-amz-object-lock-mode"] = LOCK_MODE
            headers["x-amz-object-lock-retain-until-date"] = until
        return headers

    def _conditional_put(
        self, b: Bucket, key: str, data: bytes, headers: dict[str, Any], *, conditional: bool
    ) -> str | None:
        """PUT the object; return its version id, or raise ``_Exists`` on HTTP 412."""
        if conditional:
            headers = {**headers, "If-None-Match": "*"}
        try:
            result = self._client._put_object(self.bucket_name(b), key, data, headers)
        except S3Error as exc:
            if exc.code == "PreconditionFailed" or getattr(exc.response, "status", 0) == 412:
                raise _Exists from None
            raise self._fail(exc, b, key) from exc
        except _TRANSPORT_ERRORS as exc:
            raise self._fail(exc, b, key) from exc
        return result.version_id

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
        check_key(key)
        check_content_type(content_type)
        retain_until = check_retention(b, retain_until)
        data = bytes(data)
        sha = hashlib.sha256(data).hexdigest()
        if overwrite:
            existing = self.stat(b, key)
            if existing is not None and is_locked(existing, self.clock.now()):
                raise ObjectLocked(b.value, key, existing.retain_until)
        headers = self._headers(content_type, sha, retain_until)
        try:
            version = self._conditional_put(b, key, data, headers, conditional=not overwrite)
        except _Exists:
            existing = self.stat(b, key)
            if existing is not None and existing.sha256 == sha:
                return existing
            raise ObjectExists(b.value, key) from None
        return StoredObject(b.value, key, len(data), sha, content_type, version, retain_until)

    def put_content_addressed(
        self, bucket: Bucket | str, chunks: Source, *, max_bytes: int, content_type: str
    ) -> StoredObject:
        b = bucket_of(bucket)
        check_content_type(content_type)
        sp = spool(
            chunks, max_bytes=max_bytes, directory=self.spool_dir, in_memory_up_to=IN_MEMORY_MAX
        )
        try:
            key = content_key(sp.sha256)
            headers = self._headers(content_type, sp.sha256, None)
            sp.file.seek(0)
            if sp.size <= SINGLE_PUT_MAX:
                # one conditional PUT and nothing else: a 412 says the key is taken, and a
                # content-addressed key holds exactly these bytes (its name is their SHA-256),
                # so there is nothing to ask the server (its version id stays unknown: None)
                try:
                    version = self._conditional_put(
                        b, key, sp.file.read(), headers, conditional=True
                    )
                except _Exists:
                    version = None
            else:
                existing = self.stat(b, key)
                if existing is not None:
                    return existing
                try:
                    result = self._client.put_object(
                        self.bucket_name(b),
                        key,
                        sp.file,
                        sp.size,
                        content_type=content_type,
                        metadata={"sha256": sp.sha256},
                        part_size=PART_SIZE,
                        num_parallel_uploads=1,
                    )
                except _TRANSPORT_ERRORS as exc:
                    raise self._fail(exc, b, key) from exc
                version = result.version_id
            return StoredObject(b.value, key, sp.size, sp.sha256, content_type, version, None)
        finally:
            sp.discard()

    # -- reading ------------------------------------------------------------------------------

    def _info(self, b: Bucket, key: str, size: int, headers: Any) -> StoredObject:
        sha = headers.get(SHA_META) or ""
        until = headers.get("x-amz-object-lock-retain-until-date")
        return StoredObject(
            bucket=b.value,
            key=key,
            size=size,
            sha256=sha,
            content_type=headers.get("Content-Type") or "application/octet-stream",
            version_id=headers.get("x-amz-version-id") or None,
            retain_until=_parse_time(until) if until else None,
        )

    def stat(self, bucket: Bucket | str, key: str) -> StoredObject | None:
        b = bucket_of(bucket)
        check_key(key)
        try:
            st = self._client.stat_object(self.bucket_name(b), key)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchVersion", "NoSuchObject"):
                return None
            raise self._fail(exc, b, key) from exc
        except _TRANSPORT_ERRORS as exc:
            raise self._fail(exc, b, key) from exc
        info = self._info(b, key, st.size or 0, st.metadata or {})
        if not info.sha256:  # written by someone else: compute it once, by streaming
            h = hashlib.sha256()
            for chunk in self.open(b, key):
                h.update(chunk)
            info = StoredObject(**{**info.__dict__, "sha256": h.hexdigest()})
        return info

    def exists(self, bucket: Bucket | str, key: str) -> bool:
        return self.stat(bucket, key) is not None

    def open(self, bucket: Bucket | str, key: str) -> ObjectReader:
        b = bucket_of(bucket)
        check_key(key)
        try:
            resp = self._client.get_object(self.bucket_name(b), key)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchVersion"):
                raise ObjectNotFound(b.value, key) from None
            raise self._fail(exc, b, key) from exc
        except _TRANSPORT_ERRORS as exc:
            raise self._fail(exc, b, key) from exc
        size = int(resp.headers.get("Content-Length") or 0)
        return ObjectReader(
            resp,
            self._info(b, key, size, resp.headers),
            on_close=resp.release_conn,
            translate=lambda exc: self._fail(exc, b, key),
        )

    def get(self, bucket: Bucket | str, key: str) -> bytes:
        with self.open(bucket, key) as r:
            data = r.read()
        if len(data) != r.info.size:
            raise self._fail(OSError("short read"), bucket, key)
        return data

    # -- deleting -----------------------------------------------------------------------------

    def delete(self, bucket: Bucket | str, key: str) -> None:
        """Delete every version of ``key`` (so the bytes are really gone), oldest first."""
        b = bucket_of(bucket)
        existing = self.stat(b, key)
        if existing is None:
            return
        if is_locked(existing, self.clock.now()):
            raise ObjectLocked(b.value, key, existing.retain_until)
        name = self.bucket_name(b)
        try:
            if b not in VERSIONED_BUCKETS:
                self._client.remove_object(name, key)
                return
            versions = [
                o
                for o in self._client.list_objects(name, prefix=key, include_version=True)
                if o.object_name == key
            ]
            versions.sort(key=lambda o: bool(o.is_latest))  # the current version last
            for v in versions:
                try:
                    self._client.remove_object(name, key, version_id=v.version_id)
                except S3Error as exc:
                    if exc.code == "AccessDenied":
                        raise ObjectLocked(b.value, key, "an earlier version's date") from None
                    raise
        except _TRANSPORT_ERRORS as exc:
            raise self._fail(exc, b, key) from exc

    # -- the rest -----------------------------------------------------------------------------

    def presigned_get_url(
        self, bucket: Bucket | str, key: str, ttl: timedelta, *, filename: str | None = None
    ) -> str | None:
        b = bucket_of(bucket)
        check_key(key)
        params: dict[str, Any] | None = None
        if filename:
            params = {"response-content-disposition": content_disposition(filename)}
        try:
            return self._client.presigned_get_object(
                self.bucket_name(b),
                key,
                expires=ttl,
                response_headers=params,
                request_date=self.clock.now(),
            )
        except _TRANSPORT_ERRORS as exc:
            raise self._fail(exc, b, key) from exc

    def ping(self) -> None:
        try:
            self._ping_client.bucket_exists(self.bucket_name(Bucket.RECEIPTS))
        except _TRANSPORT_ERRORS as exc:
            raise self._fail(exc) from exc

    def describe(self) -> str:
        return f"S3 at {self.where}, buckets {self.bucket_prefix}{{{','.join(Bucket)}}}"

    def close(self) -> None:
        self._http.clear()
        self._ping_http.clear()


class _Exists(Exception):
    """Internal: the conditional PUT found the key taken (HTTP 412)."""


def _parse_time(value: str) -> datetime:
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the UTF-8 name (RFC 6266 / RFC 5987)."""
    base = os.path.basename(filename.replace("\\", "/")) or "download"
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in base)
    quoted = urllib.parse.quote(base, safe="")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}"
