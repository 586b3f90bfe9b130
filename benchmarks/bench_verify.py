"""Verifications per second: ``signing.verify_file`` vs bare pyHanko, same files, same run.

Run: ``.venv/bin/python -m benchmarks.bench_verify [seconds-per-case]``. Bare pyHanko here is
``validate_pdf_signature`` / ``validate_detached_cms`` with a plain ValidationContext (TL CA as
root, the same CRLs, no fetching): no TL-based qualification, no AdES process.

Two figures per case: verifications per second of *wall-clock* time, and per second of *CPU*
time of this process. On a shared machine the wall-clock rates swing with the load of other
processes (the two sides of a ratio are measured at different moments); the CPU rates are what
the code costs. Both sides are measured in alternating rounds and the best round is kept.

The last case verifies the same CAdES signature against trusted lists with 300 more CA/QC
services (the size of the EU lists' CA population), where looking up the issuer on the lists
matters.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from asn1crypto import cms
from asn1crypto import crl as asn1_crl
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_detached_cms, validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from signing import load_trust, verify_file
from tests.pki import shared_pki, t
from tests.pki.certs import make_root
from tests.pki.trusted_list import build_trusted_list, service

ROUNDS = 5


def rates(fn: Callable[[], None], seconds: float) -> tuple[float, float]:
    """(calls per wall-clock second, calls per CPU second) over ``seconds`` of wall time."""
    n = 0
    wall, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - wall), n / max(time.process_time() - cpu, 1e-9)


def best_of(
    ours: Callable[[], None], bare: Callable[[], None], seconds: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    ours()
    bare()
    a: list[tuple[float, float]] = []
    b: list[tuple[float, float]] = []
    for _ in range(ROUNDS):
        a.append(rates(ours, seconds / ROUNDS))
        b.append(rates(bare, seconds / ROUNDS))
    return (max(x[0] for x in a), max(x[1] for x in a)), (
        max(x[0] for x in b),
        max(x[1] for x in b),
    )


def _big_trust(pki, n: int = 300):
    """The test PKI's lists plus a list of ``n`` other CA/QC services (signed by the TL signer)."""
    root = Path(tempfile.mkdtemp(prefix="podatelna-bench-"))
    services = [
        service(
            f"Bench CA {i}",
            make_root(f"bench{i}", f"Bench CA {i}", t.PKI_START, t.PKI_END),
            granted_from=t.PKI_START,
        )
        for i in range(n)
    ]
    big = root / "big-tl.xml"
    big.write_bytes(build_trusted_list(services, issued=t.PKI_START, signer=pki.tl_signer))
    return load_trust(pki.trust_settings(trusted_lists=(str(big), str(pki.tl_path))))


def main(seconds: float = 3.0) -> None:
    pki = shared_pki()
    trust = load_trust(pki.trust_settings())
    from tests.pki import sample_pdf

    pdf = pki.sign_pdf("qes", sample_pdf())
    data = b"x" * 20_000
    p7s = pki.sign_cades_detached("qes", data)
    crls = [asn1_crl.CertificateList.load(p.read_bytes()) for p in pki.crl_paths]

    def vc():
        return ValidationContext(
            trust_roots=[pki.qca.asn1_cert],
            crls=crls,
            moment=t.VALIDATION_TIME,
            allow_fetching=False,
            revocation_mode="require",
        )

    def ours_pdf():
        r = verify_file(pdf, name="a.pdf", trust=trust, at=t.VALIDATION_TIME)
        assert r.recognised

    def bare_pdf():
        sig = PdfFileReader(BytesIO(pdf)).embedded_signatures[0]
        st = validate_pdf_signature(sig, vc(), ts_validation_context=vc())
        assert st.bottom_line

    def cades_with(trust_ctx):
        def ours_cades():
            r = verify_file(
                p7s, name="a.p7s", detached_content=data, trust=trust_ctx, at=t.VALIDATION_TIME
            )
            assert r.recognised

        return ours_cades

    def bare_cades():
        sd = cms.ContentInfo.load(p7s)["content"]
        st = asyncio.run(
            async_validate_detached_cms(
                data, sd, signer_validation_context=vc(), ts_validation_context=vc()
            )
        )
        assert st.bottom_line

    cases = [
        ("PAdES B-T", ours_pdf, bare_pdf),
        ("detached CAdES B-T", cades_with(trust), bare_cades),
        ("CAdES, 300 more CAs", cades_with(_big_trust(pki)), bare_cades),
    ]
    for label, ours, bare in cases:
        (aw, ac), (bw, bc) = best_of(ours, bare, seconds)
        print(
            f"{label:20s} wall: podatelna {aw:6.1f}/s  bare pyHanko {bw:6.1f}/s"
            f"  ratio {aw / bw:.2f}   cpu: podatelna {ac:6.1f}/s  bare pyHanko {bc:6.1f}/s"
            f"  ratio {ac / bc:.2f}"
        )


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0)
