"""Verifications per second: ``signing.verify_file`` vs bare pyHanko, same files, same run.

Run: ``.venv/bin/python -m benchmarks.bench_verify [seconds-per-case]``. Bare pyHanko here is
``validate_pdf_signature`` / ``validate_detached_cms`` with a plain ValidationContext (TL CA as
root, the same CRLs, no fetching): no TL-based qualification, no AdES process.
"""

from __future__ import annotations

import asyncio
import sys
import time
from io import BytesIO

from asn1crypto import cms
from asn1crypto import crl as asn1_crl
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_detached_cms, validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from signing import load_trust, verify_file
from tests.pki import sample_pdf, shared_pki, t


def rate(fn, seconds: float) -> float:
    fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def main(seconds: float = 3.0) -> None:
    pki = shared_pki()
    trust = load_trust(pki.trust_settings())
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

    def ours_cades():
        r = verify_file(p7s, name="a.p7s", detached_content=data, trust=trust, at=t.VALIDATION_TIME)
        assert r.recognised

    def bare_cades():
        sd = cms.ContentInfo.load(p7s)["content"]
        st = asyncio.run(
            async_validate_detached_cms(
                data, sd, signer_validation_context=vc(), ts_validation_context=vc()
            )
        )
        assert st.bottom_line

    for label, ours, bare in (
        ("PAdES B-T", ours_pdf, bare_pdf),
        ("detached CAdES B-T", ours_cades, bare_cades),
    ):
        a, b = rate(ours, seconds), rate(bare, seconds)
        print(f"{label:20s} podatelna {a:7.1f}/s   bare pyHanko {b:7.1f}/s   ratio {a / b:.2f}")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0)
