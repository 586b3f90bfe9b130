"""The verdict table: every test signer x format, expected classification and indication.

The expectations follow DSS's classification (see the mapping in ``signing``'s docstring).
All signatures carry a timestamp from the qualified TSA at SIGN_TIME; validation at
VALIDATION_TIME (after REVOKED_AFTER and WITHDRAWN_AT).
"""

from __future__ import annotations

import pytest

from signing import load_trust, verify_file
from tests.pki import sample_pdf, shared_pki, t

P, IND = "TOTAL_PASSED", "INDETERMINATE"

#: signer -> (qualification, indication, sub-indication, recognised)
TABLE = {
    "qes": ("QESig", P, None, True),
    "qc_no_qscd": ("AdESig-QC", P, None, True),
    "qseal": ("QESeal", P, None, True),
    "nonqualified": ("AdESig", P, None, False),
    "expired": ("Indeterminate", IND, "OUT_OF_BOUNDS_NO_POE", False),
    "revoked_before": ("Indeterminate", IND, "REVOKED_NO_POE", False),
    "revoked_after": ("QESig", P, None, True),
    "nonrep_only": ("QESig", P, None, True),
    "unlisted": ("Indeterminate", IND, "NO_CERTIFICATE_CHAIN_FOUND", False),
    "withdrawn": ("QESig", P, None, True),
}
DATA = b"Priloha podani: vypis z uctu\n"


@pytest.fixture(scope="module")
def pki():
    return shared_pki()


@pytest.fixture(scope="module")
def trust(pki):
    return load_trust(pki.trust_settings())


def _signed(pki, fmt: str, signer: str):
    if fmt == "PAdES":
        return pki.sign_pdf(signer, sample_pdf()), None, "form.pdf"
    if fmt == "CAdES-detached":
        return pki.sign_cades_detached(signer, DATA), DATA, "priloha.txt.p7s"
    return pki.sign_cades_enveloping(signer, DATA), None, "priloha.txt.p7m"


@pytest.mark.parametrize("fmt", ["PAdES", "CAdES-detached", "CAdES-enveloping"])
@pytest.mark.parametrize("signer", sorted(TABLE))
def test_verdict_table(pki, trust, signer, fmt):
    data, detached, name = _signed(pki, fmt, signer)
    report = verify_file(
        data, name=name, detached_content=detached, trust=trust, at=t.VALIDATION_TIME
    )
    qualification, indication, sub, recognised = TABLE[signer]
    assert len(report.signatures) == 1
    sig = report.signatures[0]
    assert (sig.qualification, sig.indication, sig.subindication) == (
        qualification,
        indication,
        sub,
    ), sig.reasons
    assert report.recognised is recognised
    assert sig.format == ("PAdES" if fmt == "PAdES" else "CAdES")
    assert sig.level == "B-T"
    if indication == P:
        assert sig.timestamp is not None and sig.timestamp.qualified
        assert sig.signing_time == t.SIGN_TIME.isoformat()


def test_untimestamped_signature_uses_the_validation_time(pki, trust):
    """Without a timestamp, revoked-after and withdrawn lose what the timestamp proved."""
    for signer, expected in [
        ("qes", ("QESig", P)),
        ("revoked_after", ("Indeterminate", IND)),
        ("withdrawn", ("AdESig", P)),
    ]:
        pdf = pki.sign_pdf(signer, sample_pdf(), timestamp=False)
        sig = verify_file(pdf, name="a.pdf", trust=trust, at=t.VALIDATION_TIME).signatures[0]
        assert (sig.qualification, sig.indication) == expected, (signer, sig.reasons)
        assert sig.level == "B-B" and sig.timestamp is None
