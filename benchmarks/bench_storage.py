"""Puts per second of 20 KB objects on both object store backends, next to the bare calls.

Run: ``.venv/bin/python -m benchmarks.bench_storage [seconds-per-case]``. Starts its own
SeaweedFS (``weed mini``) in a temporary directory. Cases:

* filesystem ``put`` (new key each time: temp file, fsync, link, fsync of the directory) and
  ``put_content_addressed`` (spool + hash + fsync + link), against a bare write + fsync;
* S3 ``put`` (conditional PUT with ``If-None-Match``) and ``put_content_addressed`` (hash while
  spooling in memory, conditional PUT), 1 and 8 threads, against a bare ``minio.put_object``,
  all into the versioned submissions bucket.

SeaweedFS never calls fsync, so its figures are no durability reference (MinIO does).
"""

from __future__ import annotations

import io
import itertools
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from podatelna.storage import FilesystemStore, S3Store
from tests.s3server import S3Server, unique_prefix

SIZE = 20 * 1024


def rate(fn: Callable[[int], object], seconds: float, threads: int = 1) -> float:
    counter = itertools.count()
    fn(next(counter))
    stop = time.perf_counter() + seconds
    done = [0] * threads

    def loop(slot: int) -> None:
        while time.perf_counter() < stop:
            fn(next(counter))
            done[slot] += 1

    start = time.perf_counter()
    ts = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(done) / (time.perf_counter() - start)


def payload(i: int) -> bytes:
    return i.to_bytes(8, "big") + os.urandom(16) + b"\0" * (SIZE - 24)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        fs = FilesystemStore(base / "objects")
        fs.ensure_buckets()
        bare_dir = base / "bare"
        bare_dir.mkdir()

        def bare_write(i: int) -> None:
            with open(bare_dir / f"{i}.bin", "wb") as f:
                f.write(payload(i))
                f.flush()
                os.fsync(f.fileno())

        rows.append(("bare file write + fsync", rate(bare_write, seconds)))
        rows.append(
            (
                "filesystem put",
                rate(
                    lambda i: fs.put("exports", f"k/{i}", payload(i), content_type="x/y"), seconds
                ),
            )
        )
        rows.append(
            (
                "filesystem put_content_addressed",
                rate(
                    lambda i: fs.put_content_addressed(
                        "submissions", [payload(i)], max_bytes=SIZE, content_type="x/y"
                    ),
                    seconds,
                ),
            )
        )

        with S3Server(base / "s3" / "data") as server:
            s3 = S3Store(
                server.endpoint,
                server.access_key,
                server.secret_key,
                secure=False,
                bucket_prefix=unique_prefix(),
                spool_dir=base / "spool",
            )
            s3.ensure_buckets()
            client = server.client()
            bare_bucket = s3.bucket_name("submissions")  # versioned, like the real use
            for threads in (1, 8):

                def bare_put(i: int, t: int = threads) -> None:
                    client.put_object(bare_bucket, f"bare{t}/{i}", io.BytesIO(payload(i)), SIZE)

                def put(i: int, t: int = threads) -> None:
                    s3.put("submissions", f"p{t}/{i}", payload(i), content_type="x/y")

                def put_ca(i: int) -> None:
                    s3.put_content_addressed(
                        "submissions", [payload(i)], max_bytes=SIZE, content_type="x/y"
                    )

                rows.append(
                    (f"bare minio put_object, {threads} thr", rate(bare_put, seconds, threads))
                )
                rows.append((f"S3 put, {threads} thr", rate(put, seconds, threads)))
                rows.append(
                    (f"S3 put_content_addressed, {threads} thr", rate(put_ca, seconds, threads))
                )
            s3.close()

    print(f"20 KB objects, {seconds:.0f} s per case")
    for name, r in rows:
        print(f"  {name:<40} {r:8.0f} /s")


if __name__ == "__main__":
    main()
