"""Sealed receipts per second, next to the bare costs measured in the same run.

Run: ``.venv/bin/python -m benchmarks.bench_receipts [seconds-per-case]``.

Cases (one process, one thread; CPU ms from ``time.process_time``):

- ``rsa2048 sign`` / ``ecdsa-p256 sign``: ``cryptography`` signing a 32-byte digest-sized
  message (openssl speed style): the floor under any seal;
- ``render receipt``: reportlab + PDF/A post-processing (``receipts.render_receipt``);
- ``seal B-T (ours, EC/RSA)``: ``signing.seal.Sealer`` on the rendered receipt, local TSA;
- ``seal B-LT (ours, EC)``: the same with the chain and CRL embedded (pyHanko's path);
- ``naive pyHanko B-T (RSA)``: fresh ``SimpleSigner.load_pkcs12`` per document, ``sign_pdf``
  without ``bytes_reserved``, pyHanko's ``DummyTimeStamper`` (RSA-only) as TSA;
- ``naive pyHanko B-T (EC)``: the same with the EC seal key and our local TSA;
- ``render + seal B-T + store``: the whole issue of one receipt, written to a local directory
  with fsync (the target: ~10 ms of CPU).
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import DummyTimeStamper

from receipts import receipt_key, render_receipt
from receipts.samples import sample_receipt
from signing.keys import ensure_embedded_pki, load_pkcs12, to_asn1
from signing.seal import Sealer
from signing.tsa import LocalTimestamper


def measure(fn: Callable[[], object], seconds: float) -> tuple[float, float]:
    """(operations per second, CPU ms per operation)."""
    fn()
    n = 0
    start, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    return n / wall, used / n * 1000


def main(seconds: float = 3.0) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-receipts-"))
    now = datetime.now(UTC) - timedelta(hours=1)
    ec_pki = ensure_embedded_pki(tmp / "ec", now=now)
    rsa_pki = ensure_embedded_pki(tmp / "rsa", now=now, key_type="rsa")
    data = sample_receipt()
    pdf = render_receipt(data)

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    msg = b"\x01" * 32

    def ec_tsa(pki):
        return LocalTimestamper(pki.tsa_cert, pki.tsa_key, [pki.root])

    sealers = {
        "EC": Sealer(load_pkcs12(ec_pki.seal_p12), level="B-T", timestamper=ec_tsa(ec_pki)),
        "RSA": Sealer(load_pkcs12(rsa_pki.seal_p12), level="B-T", timestamper=ec_tsa(rsa_pki)),
    }
    lt_sealer = Sealer(
        load_pkcs12(ec_pki.seal_p12),
        level="B-LT",
        timestamper=ec_tsa(ec_pki),
        trust_roots=[ec_pki.root],
        crls=[ec_pki.crl_der()],
    )
    rsa_tsa_key = asn1_keys.PrivateKeyInfo.load(
        rsa_pki.tsa_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    dummy_tsa = DummyTimeStamper(to_asn1(rsa_pki.tsa_cert), rsa_tsa_key)
    meta = signers.PdfSignatureMetadata(
        field_name="Pecet", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES
    )

    def naive(p12: Path, tsa) -> Callable[[], bytes]:
        def run() -> bytes:
            signer = signers.SimpleSigner.load_pkcs12(str(p12), passphrase=None)
            assert signer is not None
            out = signers.PdfSigner(meta, signer, timestamper=tsa).sign_pdf(
                IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
            )
            return out.getvalue()

        return run

    store = tmp / "objects"
    seq = iter(range(1, 10**9))

    def issue() -> None:
        d = replace(data, reference=f"MMO/{next(seq):05d}/2026")
        sealed = sealers["EC"].seal(render_receipt(d))
        path = store / receipt_key(d.reference, d.received_at)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(sealed)
            fh.flush()
            os.fsync(fh.fileno())

    cases: list[tuple[str, Callable[[], object]]] = [
        ("rsa2048 sign", lambda: rsa_key.sign(msg, padding.PKCS1v15(), hashes.SHA256())),
        ("ecdsa-p256 sign", lambda: ec_key.sign(msg, ec.ECDSA(hashes.SHA256()))),
        ("render receipt (PDF/A-3b)", lambda: render_receipt(data)),
        ("seal B-T, ours, EC", lambda: sealers["EC"].seal(pdf)),
        ("seal B-T, ours, RSA", lambda: sealers["RSA"].seal(pdf)),
        ("seal B-LT, ours, EC", lambda: lt_sealer.seal(pdf)),
        ("naive pyHanko B-T, RSA", naive(rsa_pki.seal_p12, dummy_tsa)),
        ("naive pyHanko B-T, EC", naive(ec_pki.seal_p12, ec_tsa(ec_pki))),
        ("render + seal B-T + store", issue),
    ]
    print(f"{'case':32} {'per s':>9} {'CPU ms/op':>10}")
    for name, fn in cases:
        per_s, cpu_ms = measure(fn, seconds)
        print(f"{name:32} {per_s:9.1f} {cpu_ms:10.2f}", flush=True)
    print(f"(receipt {len(pdf)} bytes unsealed; files under {tmp})")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0)
