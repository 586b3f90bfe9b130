"""A real RFC 3161 TSA over HTTP on 127.0.0.1: a small server around ``openssl ts -reply``.

The TSA key and certificate are made by the test (issued by the embedded development root, so
that B-LT can embed their revocation data too). The server is a real HTTP server; the client is
our :class:`HttpTimestamper`.
"""

from __future__ import annotations

import hashlib
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from receipts import render_receipt
from receipts.samples import sample_receipt
from signing.keys import _load_key, load_pkcs12
from signing.seal import Sealer
from signing.tsa import HttpTimestamper, TimestampError
from tests.services import require_tool
from tests.unit.test_seal_support import embedded_pki, pdfsig, pyhanko_check

POLICY = "1.3.6.1.4.1.99999.3161.7"


def _tsa_files(d: Path, pki) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "openssl test TSA")]))
        .issuer_name(pki.root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [x509.UniformResourceIdentifier("http://127.0.0.1/x.crl")], None, None, None
                    )
                ]
            ),
            critical=False,
        )
        .sign(_load_key(pki.directory / "root-ca.key.pem"), hashes.SHA256())
    )
    (d / "tsa.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (d / "tsa.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "chain.pem").write_bytes(pki.root.public_bytes(serialization.Encoding.PEM))
    (d / "serial").write_text("01\n")
    conf = d / "ts.cnf"
    conf.write_text(
        f"""[ tsa ]
default_tsa = tsa1
[ tsa1 ]
dir = {d}
serial = {d}/serial
crypto_device = builtin
signer_cert = {d}/tsa.pem
certs = {d}/chain.pem
signer_key = {d}/tsa.key
signer_digest = sha256
default_policy = {POLICY}
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""
    )
    return conf


@pytest.fixture(scope="module")
def tsa_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    openssl = require_tool("openssl")
    d = tmp_path_factory.mktemp("tsa")
    pki = embedded_pki(d / "seal")
    conf = _tsa_files(d, pki)
    lock = threading.Lock()
    calls: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Type") != "application/timestamp-query":
                self.send_error(415)
                return
            with lock:
                calls.append(len(body))
                q, r = d / "req.tsq", d / "resp.tsr"
                q.write_bytes(body)
                proc = subprocess.run(
                    [
                        openssl,
                        "ts",
                        "-reply",
                        "-config",
                        str(conf),
                        "-queryfile",
                        str(q),
                        "-out",
                        str(r),
                    ],
                    capture_output=True,
                )
                reply = r.read_bytes() if proc.returncode == 0 else b""
            if not reply:
                self.send_error(500)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/tsa"
    yield url, (pki, calls)
    server.shutdown()
    server.server_close()


def test_timestamp_token_from_the_http_tsa(tsa_server) -> None:
    url, (_pki, calls) = tsa_server
    client = HttpTimestamper(url, timeout=10)
    digest = hashlib.sha256(b"podani").digest()
    before = len(calls)
    token = cms.ContentInfo.load(client.timestamp_token(digest))
    info = tsp.TSTInfo.load(token["content"]["encap_content_info"]["content"].contents)
    assert info["message_imprint"]["hashed_message"].native == digest
    assert info["policy"].dotted == POLICY
    assert len(calls) == before + 1
    client.close()


@pytest.mark.parametrize("level", ["B-T", "B-LT", "B-LTA"])
def test_seal_with_http_timestamps(tsa_server, level: str, tmp_path: Path) -> None:
    url, (pki, _calls) = tsa_server
    sealer = Sealer(
        load_pkcs12(pki.seal_p12),
        level=level,  # type: ignore[arg-type]
        timestamper=HttpTimestamper(url),
        trust_roots=[pki.root],
        crls=[pki.crl_der()],
    )
    sealed = sealer.seal(render_receipt(sample_receipt()))
    r = pyhanko_check(sealed, [pki.root])
    assert r.intact and r.valid and r.trusted and r.timestamp_ok
    assert r.ltv_ok is (level != "B-T")
    assert r.doc_timestamp_ok is (True if level == "B-LTA" else None)
    path = tmp_path / "sealed.pdf"
    path.write_bytes(sealed)
    _rc, sigs = pdfsig(path)
    assert sigs[0].validation == "Signature is Valid."


def test_an_unreachable_tsa_is_a_timestamp_error(tsa_server) -> None:
    client = HttpTimestamper("http://127.0.0.1:9/tsa", timeout=2)  # discard port: refused
    with pytest.raises(TimestampError, match="gave no timestamp"):
        client.timestamp_token(b"\x00" * 32)


def test_a_non_tsa_url_is_refused() -> None:
    with pytest.raises(TimestampError, match="not an http"):
        HttpTimestamper("file:///etc/passwd")
