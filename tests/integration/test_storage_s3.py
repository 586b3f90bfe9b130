"""The S3 backend against a real S3 server (SeaweedFS ``weed mini``, started by tests/s3server.py).

What SeaweedFS 4.48 enforces, as these tests pin it:
* ``If-None-Match: *`` on PUT: 412 when the key exists (our "never overwritten");
* COMPLIANCE retention: deleting the retained version and shortening its retention are refused
  (AccessDenied), for our credentials, which are the server's admin;
* not enforced by S3 itself (by design of S3 object lock): a plain PUT over a retained key and a
  DELETE without a version id succeed, as a new version / a delete marker; the retained version
  stays readable by its version id. Our interface refuses both (ObjectLocked).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error
from minio.retention import Retention

from podatelna.clock import FrozenClock
from podatelna.config import Settings
from podatelna.storage import (
    BucketMisconfigured,
    ObjectExists,
    ObjectLocked,
    ObjectNotFound,
    S3Store,
    StoreUnavailable,
    TooLarge,
    build_store,
)
from tests.s3server import S3Server, unique_prefix

pytestmark = pytest.mark.integration


def versions(server: S3Server, bucket: str, key: str) -> list:
    objs = server.client().list_objects(bucket, prefix=key, include_version=True)
    return [o for o in objs if o.object_name == key]


def spool_files(tmp_path: Path) -> list[Path]:
    d = tmp_path / "spool"
    return list(d.iterdir()) if d.exists() else []


def store_on(server: S3Server, tmp_path: Path, **kw) -> S3Store:
    store = S3Store(
        server.endpoint,
        server.access_key,
        server.secret_key,
        secure=False,
        bucket_prefix=unique_prefix(),
        spool_dir=tmp_path / "spool",
        **kw,
    )
    store.ensure_buckets()
    return store


def test_buckets_versioning_and_object_lock(s3_store: S3Store, s3_server: S3Server) -> None:
    s3_store.ensure_buckets()  # idempotent
    c = s3_server.client()
    p = s3_store.bucket_prefix
    assert {b.name for b in c.list_buckets()} >= {f"{p}submissions", f"{p}receipts", f"{p}exports"}
    assert c.get_bucket_versioning(f"{p}receipts").status == "Enabled"
    assert c.get_bucket_versioning(f"{p}submissions").status == "Enabled"
    c.get_object_lock_config(f"{p}receipts")  # raises if the bucket has no object lock
    with pytest.raises(S3Error):
        c.get_object_lock_config(f"{p}exports")


def test_receipts_bucket_without_lock_is_refused(s3_server: S3Server, tmp_path: Path) -> None:
    prefix = unique_prefix()
    s3_server.client().make_bucket(f"{prefix}receipts")  # created by hand, without object lock
    store = S3Store(
        s3_server.endpoint, s3_server.access_key, s3_server.secret_key, secure=False,
        bucket_prefix=prefix,
    )  # fmt: skip
    with pytest.raises(BucketMisconfigured) as e:
        store.ensure_buckets()
    assert "object lock" in e.value.message


def test_put_get_stat_open_delete(s3_store: S3Store, s3_server: S3Server) -> None:
    data = b"<podani>" + os.urandom(20_000) + b"</podani>"
    obj = s3_store.put("submissions", "manual/a.xml", data, content_type="application/xml")
    assert obj.version_id and obj.sha256 == hashlib.sha256(data).hexdigest()
    assert s3_store.stat("submissions", "manual/a.xml") == obj
    assert s3_store.get("submissions", "manual/a.xml") == data
    with s3_store.open("submissions", "manual/a.xml") as r:
        assert r.info == obj
        assert b"".join(r.iter_chunks(4096)) == data
    s3_store.delete("submissions", "manual/a.xml")
    assert s3_store.stat("submissions", "manual/a.xml") is None
    assert versions(s3_server, s3_store.bucket_name("submissions"), "manual/a.xml") == []
    s3_store.put("exports", "x.txt", b"x", content_type="text/plain")
    s3_store.delete("exports", "x.txt")
    assert not s3_store.exists("exports", "x.txt")
    assert s3_store.stat("submissions", "missing") is None
    with pytest.raises(ObjectNotFound):
        s3_store.get("submissions", "missing")
    s3_store.ping()
    assert s3_store.bucket_prefix in s3_store.describe()


def test_content_addressed_dedup(s3_store: S3Store, s3_server: S3Server, tmp_path: Path) -> None:
    data = os.urandom(50_000)
    a = s3_store.put_content_addressed(
        "submissions", [data[:7], data[7:]], max_bytes=len(data), content_type="application/pdf"
    )
    sha = hashlib.sha256(data).hexdigest()
    assert a.key == f"sha256/{sha[:2]}/{sha}" and a.size == len(data)
    sent: list[str] = []
    url_open = s3_store._client._url_open

    def counting(method: str, *args: object, **kwargs: object) -> object:
        sent.append(method)
        return url_open(method, *args, **kwargs)

    s3_store._client._url_open = counting  # type: ignore[method-assign]
    try:
        b = s3_store.put_content_addressed(
            "submissions", [data], max_bytes=len(data), content_type="application/pdf"
        )
    finally:
        del s3_store._client._url_open
    assert sent == ["PUT"]  # one request per blob, also when the content is there already
    # the second is one conditional PUT answered 412: same key, size, hash; nothing rewritten
    assert (b.key, b.size, b.sha256, b.content_type) == (a.key, a.size, a.sha256, a.content_type)
    assert len(versions(s3_server, s3_store.bucket_name("submissions"), a.key)) == 1
    assert s3_store.stat("submissions", a.key) == a
    assert spool_files(tmp_path) == []


def test_large_content_addressed_upload_in_parts(s3_store: S3Store, tmp_path: Path) -> None:
    block = os.urandom(1 << 20)
    chunks = [block] * 6 + [b"tail"]
    h = hashlib.sha256()
    for c in chunks:
        h.update(c)
    obj = s3_store.put_content_addressed(
        "submissions", iter(chunks), max_bytes=7 << 20, content_type="application/octet-stream"
    )
    assert obj.sha256 == h.hexdigest() and obj.size == 6 * (1 << 20) + 4
    st = s3_store.stat("submissions", obj.key)
    assert st is not None and st.sha256 == obj.sha256 and st.size == obj.size
    got = hashlib.sha256()
    for chunk in s3_store.open("submissions", obj.key):
        got.update(chunk)
    assert got.hexdigest() == obj.sha256
    assert spool_files(tmp_path) == []


def test_too_large_stores_nothing(s3_store: S3Store, s3_server: S3Server, tmp_path: Path) -> None:
    pulled = []

    def chunks():
        for i in range(10):
            pulled.append(i)
            if i == 2:  # by now the upload has left memory for a spool file
                assert len(spool_files(tmp_path)) == 1
            yield b"z" * (1 << 20)

    with pytest.raises(TooLarge):
        s3_store.put_content_addressed(
            "submissions", chunks(), max_bytes=3 << 20, content_type="text/plain"
        )
    assert pulled == [0, 1, 2, 3]
    objs = list(
        s3_server.client().list_objects(s3_store.bucket_name("submissions"), recursive=True)
    )
    assert objs == []
    assert spool_files(tmp_path) == []


def test_never_overwritten(s3_store: S3Store, s3_server: S3Server) -> None:
    first = s3_store.put("exports", "e/1.json", b'{"a":1}', content_type="application/json")
    with pytest.raises(ObjectExists):
        s3_store.put("exports", "e/1.json", b'{"a":2}', content_type="application/json")
    assert s3_store.get("exports", "e/1.json") == b'{"a":1}'
    assert s3_store.put("exports", "e/1.json", b'{"a":1}', content_type="text/plain") == first
    s3_store.put("exports", "e/1.json", b'{"a":3}', content_type="application/json", overwrite=True)
    assert s3_store.get("exports", "e/1.json") == b'{"a":3}'


def test_concurrent_writers_exactly_one_wins(s3_server: S3Server, tmp_path: Path) -> None:
    # SeaweedFS serialises conditional PUTs of one key with a lock it retries once a second:
    # with 8 writers the last is answered after 3 to 5 s, hence the longer read timeout here
    s3_store = store_on(s3_server, tmp_path, read_timeout=30)
    n = 8
    barrier = threading.Barrier(n)
    outcomes: list[str] = []

    def write(i: int) -> None:
        barrier.wait()
        try:
            s3_store.put("submissions", "race", f"writer {i}".encode(), content_type="text/plain")
            outcomes.append(f"ok {i}")
        except ObjectExists:
            outcomes.append("exists")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes if o.startswith("ok")]
    assert len(winners) == 1 and outcomes.count("exists") == n - 1
    assert s3_store.get("submissions", "race") == f"writer {winners[0][3:]}".encode()
    assert len(versions(s3_server, s3_store.bucket_name("submissions"), "race")) == 1


def test_object_lock_on_receipts(s3_store: S3Store, s3_server: S3Server) -> None:
    key = "receipts/2026/MMO-00042-2026.pdf"
    until = datetime.now(UTC) + timedelta(days=1)
    obj = s3_store.put(
        "receipts", key, b"%PDF-sealed", content_type="application/pdf", retain_until=until
    )
    st = s3_store.stat("receipts", key)
    assert st is not None and st.retain_until == obj.retain_until
    assert obj.retain_until is not None and 0 <= (obj.retain_until - until).total_seconds() <= 1
    # our interface refuses
    with pytest.raises(ObjectLocked):
        s3_store.delete("receipts", key)
    with pytest.raises(ObjectLocked):
        s3_store.put(
            "receipts", key, b"%PDF-forged", content_type="application/pdf", overwrite=True
        )
    with pytest.raises(ObjectExists):
        s3_store.put("receipts", key, b"%PDF-forged", content_type="application/pdf")
    # the server itself refuses deleting the retained version or shortening its retention
    c = s3_server.client()
    bucket = s3_store.bucket_name("receipts")
    assert c.get_object_retention(bucket, key, version_id=obj.version_id).mode == COMPLIANCE
    with pytest.raises(S3Error) as e:
        c.remove_object(bucket, key, version_id=obj.version_id)
    assert e.value.code == "AccessDenied"
    with pytest.raises(S3Error) as e:
        c.set_object_retention(
            bucket, key, Retention(COMPLIANCE, until - timedelta(hours=12)),
            version_id=obj.version_id,
        )  # fmt: skip
    assert e.value.code == "AccessDenied"
    # what S3 object lock does not prevent: a delete marker; the retained version survives
    c.remove_object(bucket, key)
    assert s3_store.stat("receipts", key) is None
    kept = c.get_object(bucket, key, version_id=obj.version_id)
    try:
        assert kept.read() == b"%PDF-sealed"
    finally:
        kept.close()
        kept.release_conn()


@pytest.mark.slow
def test_retention_ends_then_delete_removes_every_version(s3_store: S3Store, s3_server: S3Server):
    key = "receipts/short.pdf"
    until = datetime.now(UTC) + timedelta(seconds=2)
    s3_store.put("receipts", key, b"v1", content_type="application/pdf", retain_until=until)
    with pytest.raises(ObjectLocked):
        s3_store.delete("receipts", key)
    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 1.5)
    s3_store.put("receipts", key, b"v2", content_type="application/pdf", overwrite=True)
    assert len(versions(s3_server, s3_store.bucket_name("receipts"), key)) == 2
    s3_store.delete("receipts", key)
    assert versions(s3_server, s3_store.bucket_name("receipts"), key) == []
    s3_store.delete("receipts", key)  # already gone: no error


def test_presigned_url(s3_store: S3Store) -> None:
    obj = s3_store.put(
        "exports", "personal/data.json", b'{"x":"y"}', content_type="application/json"
    )
    url = s3_store.presigned_get_url(
        "exports", obj.key, timedelta(minutes=5), filename="osobní údaje.json"
    )
    assert url is not None
    r = httpx.get(url)
    assert r.status_code == 200 and r.content == b'{"x":"y"}'
    assert "filename*=UTF-8''osobn%C3%AD%20%C3%BAdaje.json" in r.headers["content-disposition"]
    tampered = url.replace("personal/data.json", "personal/other.json")
    assert httpx.get(tampered).status_code == 403


def test_presigned_url_expires(s3_server: S3Server, tmp_path: Path) -> None:
    # the URL's signing time comes from the store's clock: one signed 10 minutes ago for
    # 5 minutes has expired, one signed now has not
    clock = FrozenClock(datetime.now(UTC) - timedelta(minutes=10))
    store = store_on(s3_server, tmp_path, clock=clock)
    store.put("exports", "soon.txt", b"x", content_type="text/plain")
    old = store.presigned_get_url("exports", "soon.txt", timedelta(minutes=5))
    assert old is not None and httpx.get(old).status_code == 403
    clock.set(datetime.now(UTC))
    fresh = store.presigned_get_url("exports", "soon.txt", timedelta(minutes=5))
    assert fresh is not None and httpx.get(fresh).status_code == 200


def test_wrong_credentials_are_unavailable(s3_server: S3Server, tmp_path: Path) -> None:
    store = S3Store(s3_server.endpoint, s3_server.access_key, "wrong", secure=False)
    with pytest.raises(StoreUnavailable) as e:
        store.stat("exports", "x")
    assert "credentials" in e.value.message


def test_build_store_on_s3(s3_server: S3Server, tmp_path: Path) -> None:
    prefix = unique_prefix()
    settings = Settings(data_dir=str(tmp_path)).replace(storage=s3_server.storage_settings(prefix))
    store = build_store(settings)
    assert isinstance(store, S3Store)
    store.ensure_buckets()
    obj = store.put_content_addressed(
        "submissions", [b"abc"], max_bytes=3, content_type="text/plain"
    )
    assert store.get("submissions", obj.key) == b"abc"


@pytest.mark.slow
def test_unavailable_quickly_then_recovers(s3_server_private: S3Server, tmp_path: Path) -> None:
    server = s3_server_private
    store = store_on(server, tmp_path)
    before = store.put("receipts", "r/1.pdf", b"%PDF-1", content_type="application/pdf")

    server.stop()
    for call in (
        store.ping,
        lambda: store.get("receipts", "r/1.pdf"),
        lambda: store.put("exports", "e/1", b"x", content_type="text/plain"),
        lambda: store.put_content_addressed(
            "submissions", [b"abc"], max_bytes=10, content_type="text/plain"
        ),
    ):
        t0 = time.monotonic()
        with pytest.raises(StoreUnavailable) as e:
            call()
        assert time.monotonic() - t0 < 2.0
        assert e.value.code == "storage_unavailable"
    assert spool_files(tmp_path) == []

    server.start()
    store.ping()
    assert store.get("receipts", "r/1.pdf") == b"%PDF-1"
    assert store.stat("receipts", "r/1.pdf") == before
    store.put("exports", "e/1", b"x", content_type="text/plain")

    # a hung server (accepts connections, never answers): ping gives up within two seconds
    server.pause()
    try:
        t0 = time.monotonic()
        with pytest.raises(StoreUnavailable):
            store.ping()
        assert time.monotonic() - t0 < 2.5
    finally:
        server.resume()
    store.ping()

    # a crash (SIGKILL) and a restart: what was acknowledged before is still there
    server.kill()
    with pytest.raises(StoreUnavailable):
        store.ping()
    server.start()
    assert store.get("exports", "e/1") == b"x"
