"""Sealed receipts checked by poppler's pdfsig (NSS, independent of pyHanko) and qpdf --check.

pdfsig does not know our development root, so it reports the certificate as untrusted; what
it must report is the signature itself valid and (for B-B/B-T) the whole document signed.
PDF/A after sealing is checked with pikepdf (veraPDF is not available on these machines).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from receipts import render_receipt
from receipts.samples import sample_receipt
from tests.unit.test_seal_support import (
    embedded_pki,
    make_sealer,
    pdfa_problems,
    pdfa_validator_findings,
    pdfsig,
    pyhanko_check,
    qpdf_check,
)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory):
    return embedded_pki(tmp_path_factory.mktemp("seal"))


@pytest.fixture(scope="module")
def receipt() -> bytes:
    return render_receipt(sample_receipt())


@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT", "B-LTA"])
def test_pdfsig_and_qpdf_accept_the_sealed_receipt(
    pki, receipt: bytes, level: str, tmp_path: Path
) -> None:
    sealed = make_sealer(pki, level).seal(receipt)
    path = tmp_path / f"receipt-{level}.pdf"
    path.write_bytes(sealed)
    rc, sigs = pdfsig(path)
    assert rc == 0
    seal = sigs[0]
    assert seal.field == "PecetUradu"
    assert seal.kind == "ETSI.CAdES.detached"
    assert seal.validation == "Signature is Valid."
    assert "NOT FOR PRODUCTION" in seal.signer
    # B-B/B-T: the seal covers every byte; B-LT adds the DSS after it, B-LTA a document
    # timestamp (which pdfsig lists but does not verify)
    assert seal.total_document is (level in ("B-B", "B-T"))
    assert len(sigs) == (2 if level == "B-LTA" else 1)
    if level == "B-LTA":
        # this pdfsig prints "unknown" as the type of an RFC 3161 document timestamp
        assert "timestamp authority" in sigs[1].signer
    check = qpdf_check(path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No syntax or stream encoding errors" in check.stdout
    assert pdfa_problems(sealed) == []
    assert pdfa_validator_findings(sealed, sealed=True) == []


def test_one_changed_byte_fails_both_verifiers(pki, receipt: bytes, tmp_path: Path) -> None:
    sealed = bytearray(make_sealer(pki, "B-T").seal(receipt))
    i = sealed.index(b'<rdf:li xml:lang="x-default">Potvrzen')
    sealed[i + 30] ^= 0x20  # "Potvrzení" becomes "potvrzení" in the XMP metadata
    path = tmp_path / "tampered.pdf"
    path.write_bytes(bytes(sealed))
    _rc, sigs = pdfsig(path)
    assert sigs and sigs[0].validation != "Signature is Valid."
    assert "mismatch" in sigs[0].validation.lower() or "invalid" in sigs[0].validation.lower()
    assert not pyhanko_check(bytes(sealed), [pki.root]).intact


@pytest.mark.parametrize("kind", ["rejection", "copy", "personal-export", "journal"])
def test_every_document_kind_seals_and_validates(pki, kind: str, tmp_path: Path) -> None:
    from receipts import render_copy, render_journal, render_personal_export, render_rejection
    from receipts.samples import (
        sample_copy,
        sample_journal,
        sample_personal_export,
        sample_rejection,
    )

    make, render = {
        "rejection": (sample_rejection, render_rejection),
        "copy": (sample_copy, render_copy),
        "personal-export": (sample_personal_export, render_personal_export),
        "journal": (lambda: sample_journal(80), render_journal),
    }[kind]
    sealed = make_sealer(pki, "B-LT").seal(render(make()))
    path = tmp_path / f"{kind}.pdf"
    path.write_bytes(sealed)
    _rc, sigs = pdfsig(path)
    assert [s.validation for s in sigs] == ["Signature is Valid."]
    assert qpdf_check(path).returncode == 0
    r = pyhanko_check(sealed, [pki.root])
    assert r.intact and r.valid and r.trusted and r.timestamp_ok and r.ltv_ok
    assert pdfa_problems(sealed) == []
    assert pdfa_validator_findings(sealed, sealed=True) == []
