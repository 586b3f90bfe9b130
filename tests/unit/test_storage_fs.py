"""The filesystem object store: atomic, never overwritten, streaming with limits, retention."""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from podatelna.clock import FrozenClock
from podatelna.config import Settings
from podatelna.storage import (
    Bucket,
    FilesystemStore,
    InvalidKey,
    ObjectExists,
    ObjectLocked,
    ObjectNotFound,
    StorageError,
    StoredObject,
    StoreUnavailable,
    TooLarge,
    build_store,
    content_key,
)

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def temporaries(root: Path) -> list[str]:
    return [f for f in all_files(root) if Path(f).name.startswith(".")]


# -- basics ---------------------------------------------------------------------------------------


def test_put_get_stat_round_trip(fs_store: FilesystemStore) -> None:
    data = b"<podani>ahoj</podani>"
    obj = fs_store.put("exports", "journal/2026/03.xml", data, content_type="application/xml")
    assert obj == StoredObject(
        "exports", "journal/2026/03.xml", len(data), hashlib.sha256(data).hexdigest(),
        "application/xml", None, None,
    )  # fmt: skip
    assert fs_store.get(Bucket.EXPORTS, "journal/2026/03.xml") == data
    assert fs_store.stat("exports", "journal/2026/03.xml") == obj
    assert fs_store.exists("exports", "journal/2026/03.xml")
    assert StoredObject.from_dict(obj.to_dict()) == obj
    assert fs_store.presigned_get_url("exports", obj.key, timedelta(minutes=5)) is None
    assert "filesystem" in fs_store.describe()


def test_missing_objects(fs_store: FilesystemStore) -> None:
    assert fs_store.stat("exports", "nope") is None
    assert not fs_store.exists("exports", "nope/deeper")
    with pytest.raises(ObjectNotFound) as e:
        fs_store.get("exports", "nope")
    assert e.value.code == "storage_object_not_found"
    with pytest.raises(ObjectNotFound):
        fs_store.open("exports", "nope")
    fs_store.delete("exports", "nope")  # deleting what is not there is not an error


def test_open_streams_in_chunks(fs_store: FilesystemStore) -> None:
    data = os.urandom(200_000)
    fs_store.put("exports", "big.bin", data, content_type="application/octet-stream")
    reader = fs_store.open("exports", "big.bin")
    assert reader.info.size == len(data)
    chunks = list(reader)
    assert len(chunks) > 1 and max(map(len, chunks)) <= 64 * 1024
    assert b"".join(chunks) == data
    assert reader.closed
    with fs_store.open("exports", "big.bin") as r:
        assert r.read(10) == data[:10]


def test_never_overwritten(fs_store: FilesystemStore) -> None:
    first = fs_store.put("exports", "a.txt", b"first", content_type="text/plain")
    with pytest.raises(ObjectExists) as e:
        fs_store.put("exports", "a.txt", b"second", content_type="text/plain")
    assert e.value.code == "storage_object_exists"
    assert fs_store.get("exports", "a.txt") == b"first"
    # the same bytes again: the stored object comes back (idempotent re-issue)
    again = fs_store.put("exports", "a.txt", b"first", content_type="application/octet-stream")
    assert again == first
    assert temporaries(fs_store.root) == []


def test_overwrite_when_asked(fs_store: FilesystemStore) -> None:
    fs_store.put("exports", "a.txt", b"first", content_type="text/plain")
    obj = fs_store.put("exports", "a.txt", b"second", content_type="text/plain", overwrite=True)
    assert obj.size == 6
    assert fs_store.get("exports", "a.txt") == b"second"
    assert temporaries(fs_store.root) == []


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../escape",
        "a/../../escape",
        "/etc/passwd",
        "a//b",
        "a/",
        ".hidden",
        "a/.tmp-x",
        "a/./b",
        "a\\..\\b",
        "nul\0byte",
        "mezera v názvu",
        "x" * 513,
    ],
)
def test_bad_keys_are_refused(fs_store: FilesystemStore, key: str) -> None:
    with pytest.raises(InvalidKey) as e:
        fs_store.put("exports", key, b"x", content_type="text/plain")
    assert e.value.code == "storage_invalid_key"
    with pytest.raises(InvalidKey):
        fs_store.stat("exports", key)
    assert all_files(fs_store.root) == []


def test_unknown_bucket_and_bad_content_type(fs_store: FilesystemStore) -> None:
    with pytest.raises(InvalidKey):
        fs_store.put("../objects", "a", b"x", content_type="text/plain")
    with pytest.raises(StorageError):
        fs_store.put("exports", "a", b"x", content_type="text/plain\r\nX-Evil: 1")


def test_key_cannot_be_object_and_prefix(fs_store: FilesystemStore) -> None:
    fs_store.put("exports", "a", b"x", content_type="text/plain")
    with pytest.raises(InvalidKey):
        fs_store.put("exports", "a/b", b"y", content_type="text/plain")


# -- content addressing ------------------------------------------------------------------------


def test_content_addressed_key_and_dedup(fs_store: FilesystemStore) -> None:
    data = b"%PDF-1.7 " + os.urandom(100_000)
    sha = hashlib.sha256(data).hexdigest()
    obj = fs_store.put_content_addressed(
        "submissions", [data[:1000], bytearray(data[1000:5000]), memoryview(data[5000:])],
        max_bytes=len(data), content_type="application/pdf",
    )  # fmt: skip
    assert obj.key == f"sha256/{sha[:2]}/{sha}" == content_key(sha)
    assert (obj.size, obj.sha256) == (len(data), sha)
    path = fs_store.root / "submissions" / obj.key
    before = os.stat(path)
    again = fs_store.put_content_addressed(
        "submissions", io.BytesIO(data), max_bytes=len(data), content_type="application/pdf"
    )
    assert again == obj
    after = os.stat(path)
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    assert fs_store.get("submissions", obj.key) == data
    assert temporaries(fs_store.root) == []


def test_too_large_aborts_at_once_and_cleans_up(fs_store: FilesystemStore) -> None:
    pulled = []

    def chunks():
        for i in range(100):
            pulled.append(i)
            yield b"x" * 1000

    with pytest.raises(TooLarge) as e:
        fs_store.put_content_addressed(
            "submissions", chunks(), max_bytes=4500, content_type="text/plain"
        )
    assert e.value.limit == 4500 and e.value.code == "storage_too_large"
    assert pulled == [0, 1, 2, 3, 4]  # refused on the chunk that crossed the limit
    assert all_files(fs_store.root) == []
    # exactly the limit is fine
    obj = fs_store.put_content_addressed(
        "submissions", [b"x" * 4500], max_bytes=4500, content_type="text/plain"
    )
    assert obj.size == 4500


def test_broken_client_stream_leaves_nothing(fs_store: FilesystemStore) -> None:
    def chunks():
        yield b"a" * 10_000
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        fs_store.put_content_addressed(
            "submissions", chunks(), max_bytes=10**6, content_type="text/plain"
        )
    assert all_files(fs_store.root) == []


# -- crashes --------------------------------------------------------------------------------------

_CRASH_BEFORE_LINK = textwrap.dedent(
    """
    import os, signal, sys
    from podatelna.storage import FilesystemStore
    store = FilesystemStore(sys.argv[1])
    def crash(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)
    os.link = crash  # the process dies at the last step before the object would appear
    store.put("receipts", "receipts/2026/MMO-00001-2026.pdf", b"%PDF" * 1000,
              content_type="application/pdf")
    """
)


def test_crash_before_publishing_leaves_no_object(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    proc = subprocess.run([sys.executable, "-c", _CRASH_BEFORE_LINK, str(root)], check=False)
    assert proc.returncode == -signal.SIGKILL
    store = FilesystemStore(root)
    key = "receipts/2026/MMO-00001-2026.pdf"
    assert store.stat("receipts", key) is None
    # the complete temporary file is there, but under a name no key can have
    leftovers = temporaries(root)
    assert len(leftovers) == 1 and Path(leftovers[0]).name.startswith(".tmp-")
    assert store.sweep_temporaries(older_than=timedelta(0)) == 1
    assert all_files(root) == []
    store.put("receipts", key, b"%PDF-fine", content_type="application/pdf")
    assert store.get("receipts", key) == b"%PDF-fine"


_SLOW_UPLOAD = textwrap.dedent(
    """
    import sys, time
    from podatelna.storage import FilesystemStore
    store = FilesystemStore(sys.argv[1])
    def chunks():
        while True:
            yield b"y" * 65536
            time.sleep(0.01)
    store.put_content_addressed("submissions", chunks(), max_bytes=10**9,
                                content_type="application/octet-stream")
    """
)


def test_killed_while_streaming_leaves_no_object(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_UPLOAD, str(root)])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            spools = list((root / ".spool").glob(".spool-*")) if root.exists() else []
            if spools and spools[0].stat().st_size > 200_000:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the upload did not start")
    finally:
        proc.kill()
        proc.wait()
    assert not (root / "submissions").exists() or all_files(root / "submissions") == []
    assert [Path(f).name[:7] for f in all_files(root)] == [".spool-"]
    FilesystemStore(root).sweep_temporaries(older_than=timedelta(0))
    assert all_files(root) == []


# -- several processes at once --------------------------------------------------------------------


def _writer(root: str, mode: str, index: int, barrier, results) -> None:  # type: ignore[no-untyped-def]
    store = FilesystemStore(root)
    payload = b"shared content " * 5000
    barrier.wait()
    try:
        if mode == "same-content":
            obj = store.put_content_addressed(
                "submissions", [payload], max_bytes=10**6, content_type="text/plain"
            )
        elif mode == "same-bytes":
            obj = store.put("exports", "k", payload, content_type="text/plain")
        else:
            obj = store.put(
                "exports", "k", payload + str(index).encode(), content_type="text/plain"
            )
        results.put(("ok", index, obj.key, obj.sha256))
    except ObjectExists:
        results.put(("exists", index, "", ""))


@pytest.mark.parametrize("mode", ["same-content", "same-bytes", "different-bytes"])
def test_concurrent_writers_in_several_processes(tmp_path: Path, mode: str) -> None:
    root = tmp_path / "objects"
    FilesystemStore(root).ensure_buckets()
    ctx = multiprocessing.get_context("spawn")
    n = 6
    barrier = ctx.Barrier(n)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(str(root), mode, i, barrier, results)) for i in range(n)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    outcomes = [results.get(timeout=5) for _ in range(n)]
    store = FilesystemStore(root)
    oks = [o for o in outcomes if o[0] == "ok"]
    if mode == "different-bytes":
        assert len(oks) == 1  # exactly one writer wins; the others are told, nothing clobbered
        winner = oks[0][1]
        assert store.get("exports", "k").endswith(str(winner).encode())
    else:
        assert len(oks) == n and len({o[2:] for o in oks}) == 1
    assert temporaries(root) == []
    assert len([f for f in all_files(root) if not f.startswith(".")]) == 1


# -- retention ------------------------------------------------------------------------------------


def test_retention_refuses_delete_and_replace_until_it_ends(tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    store = FilesystemStore(tmp_path / "objects", clock=clock)
    key = "receipts/2026/MMO-00042-2026.pdf"
    until = T0 + timedelta(days=3650, microseconds=1)
    obj = store.put("receipts", key, b"%PDF-receipt", content_type="application/pdf",
                    retain_until=until)  # fmt: skip
    assert obj.retain_until == T0 + timedelta(days=3650, seconds=1)  # rounded up to the second
    assert store.stat("receipts", key) == obj
    with pytest.raises(ObjectLocked) as e:
        store.delete("receipts", key)
    assert e.value.code == "storage_object_locked"
    with pytest.raises(ObjectLocked):
        store.put("receipts", key, b"%PDF-forged", content_type="application/pdf", overwrite=True)
    clock.advance(days=3649)
    with pytest.raises(ObjectLocked):
        store.delete("receipts", key)
    assert store.get("receipts", key) == b"%PDF-receipt"
    clock.advance(days=2)
    store.delete("receipts", key)
    assert not store.exists("receipts", key)


def test_retention_only_on_receipts_and_aware(fs_store: FilesystemStore) -> None:
    with pytest.raises(StorageError):
        fs_store.put("exports", "x", b"x", content_type="text/plain", retain_until=T0)
    with pytest.raises(StorageError):
        fs_store.put("receipts", "x", b"x", content_type="text/plain",
                      retain_until=datetime(2030, 1, 1))  # fmt: skip


# -- set-up ------------------------------------------------------------------------------------


def test_ping(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "objects")
    with pytest.raises(StoreUnavailable):
        store.ping()
    store.ensure_buckets()
    store.ensure_buckets()
    store.ping()
    assert sorted(p.name for p in (tmp_path / "objects").iterdir()) == [
        ".spool", "exports", "receipts", "submissions",
    ]  # fmt: skip


def test_build_store_follows_settings(tmp_path: Path) -> None:
    fs = build_store(Settings(data_dir=str(tmp_path)))
    assert isinstance(fs, FilesystemStore) and fs.root == (tmp_path / "objects").absolute()
    s3 = build_store(
        Settings(data_dir=str(tmp_path)).replace(
            storage={"kind": "s3", "endpoint": "http://127.0.0.1:1", "bucket_prefix": "x-"}
        )
    )
    assert type(s3).__name__ == "S3Store" and "127.0.0.1:1" in s3.describe()
    with pytest.raises(StorageError):
        build_store(Settings().replace(storage={"kind": "s3"}))


def test_importing_the_package_stays_light() -> None:
    code = "import sys, podatelna.storage; print('minio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_spool_stays_in_memory_only_up_to_its_threshold(tmp_path: Path) -> None:
    from podatelna.storage.spool import spool

    small = spool([b"a" * 100], max_bytes=10_000, directory=tmp_path, in_memory_up_to=1000)
    assert small.path is None and small.size == 100
    small.discard()
    big = spool(
        [b"a" * 600, b"b" * 600], max_bytes=10_000, directory=tmp_path, in_memory_up_to=1000
    )
    assert big.path is not None and big.path.read_bytes() == b"a" * 600 + b"b" * 600
    assert big.sha256 == hashlib.sha256(b"a" * 600 + b"b" * 600).hexdigest()
    big.discard()
    assert list(tmp_path.iterdir()) == []
