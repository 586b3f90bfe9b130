"""Sealing with PKCS#12 and the local TSA at every level, checked with pyHanko's validation."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest
from asn1crypto import cms, tsp

from receipts import render_receipt
from receipts.samples import sample_receipt
from signing.keys import load_pkcs12
from signing.seal import Sealer, SealError
from signing.tsa import LocalTimestamper
from tests.unit.test_seal_support import embedded_pki, make_sealer, pyhanko_check


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory):
    return embedded_pki(tmp_path_factory.mktemp("seal"))


@pytest.fixture(scope="module")
def receipt() -> bytes:
    return render_receipt(sample_receipt())


@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT", "B-LTA"])
def test_each_level_validates_with_pyhanko(pki, receipt: bytes, level: str) -> None:
    sealed = make_sealer(pki, level).seal(receipt)
    assert sealed.startswith(receipt)  # an incremental update: the PDF/A bytes are kept
    r = pyhanko_check(sealed, [pki.root])
    assert r.intact and r.valid and r.trusted
    if level == "B-B":
        assert r.timestamp_ok is None
    else:
        assert r.timestamp_ok is True
    if level in ("B-B", "B-T"):
        assert r.coverage == "ENTIRE_FILE"
        assert r.dss_crls == 0
        assert r.ltv_ok is False  # negative control: no revocation data, hard-fail fails
    else:
        assert r.coverage == "ENTIRE_REVISION"
        assert r.modification == "LTA_UPDATES"
        assert r.dss_crls >= 1
        assert r.ltv_ok is True
    assert r.doc_timestamp_ok is (True if level == "B-LTA" else None)


def test_one_changed_byte_breaks_the_seal(pki, receipt: bytes) -> None:
    sealed = bytearray(make_sealer(pki, "B-T").seal(receipt))
    i = sealed.index(b"MMO/00042/2026")  # in the signed range: the document information
    sealed[i + 4] ^= 0x01
    r = pyhanko_check(bytes(sealed), [pki.root])
    assert not r.intact  # the document digest no longer matches the signed one


def test_an_untrusted_root_is_not_trusted(pki, receipt: bytes, tmp_path: Path) -> None:
    other = embedded_pki(tmp_path / "other")
    r = pyhanko_check(make_sealer(pki, "B-T").seal(receipt), [other.root])
    assert r.intact and not r.trusted


def test_signing_time_is_the_injected_one(pki, receipt: bytes) -> None:
    at = datetime.now(UTC).replace(microsecond=0)
    sealed = make_sealer(pki, "B-T").seal(receipt, at=at)
    with pikepdf.open(io.BytesIO(sealed)) as pdf:
        (field,) = [f for f in pdf.Root.AcroForm.Fields if f.get("/FT") == "/Sig"]
        assert str(field.V.M).startswith("D:" + at.strftime("%Y%m%d%H%M%S"))
        assert str(field.V.SubFilter) == "/ETSI.CAdES.detached"


def test_the_sealer_reserves_space_once_and_reuses_it(pki, receipt: bytes) -> None:
    sealer = make_sealer(pki, "B-T")
    a = sealer.seal(receipt)
    reserved = sealer._bytes_reserved
    b = sealer.seal(receipt)
    assert reserved is not None and sealer._bytes_reserved == reserved
    assert abs(len(a) - len(b)) < 16  # same layout; only the values differ


def test_local_tsa_token_is_a_valid_rfc3161_token(pki) -> None:
    at = datetime(2026, 3, 2, 9, 15, 30, tzinfo=UTC)
    tsa = LocalTimestamper(pki.tsa_cert, pki.tsa_key, [pki.root], clock=lambda: at)
    digest = hashlib.sha256(b"payload").digest()
    token = cms.ContentInfo.load(tsa.timestamp_token(digest))
    signed = token["content"]
    info = tsp.TSTInfo.load(signed["encap_content_info"]["content"].parsed.dump())
    assert info["message_imprint"]["hashed_message"].native == digest
    assert info["gen_time"].native == at
    # the signature over the signed attributes verifies with the TSA's certificate
    from pyhanko.sign.validation.generic_cms import validate_sig_integrity

    signer_info = signed["signer_infos"][0]
    cert = next(
        c.chosen for c in signed["certificates"] if c.chosen.subject == pki_tsa_subject(pki)
    )
    tst_der = signed["encap_content_info"]["content"].contents
    intact, valid = validate_sig_integrity(
        signer_info, cert, "tst_info", hashlib.sha256(tst_der).digest()
    )
    assert intact and valid


def pki_tsa_subject(pki):
    from signing.keys import to_asn1

    return to_asn1(pki.tsa_cert).subject


def test_misconfigured_levels_are_refused(pki) -> None:
    signer = load_pkcs12(pki.seal_p12)
    with pytest.raises(SealError, match="timestamp authority"):
        Sealer(signer, level="B-T")
    with pytest.raises(SealError, match="trust root"):
        Sealer(signer, level="B-LT", timestamper=LocalTimestamper(pki.tsa_cert, pki.tsa_key))
    with pytest.raises(SealError, match="not one of"):
        Sealer(signer, level="B-X")  # type: ignore[arg-type]


def test_the_seal_cms_has_the_pades_baseline_attributes(pki, receipt: bytes) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    sealed = make_sealer(pki, "B-T").seal(receipt)
    sig = PdfFileReader(io.BytesIO(sealed), strict=False).embedded_regular_signatures[0]
    si = sig.signed_data["signer_infos"][0]
    signed = [a["type"].native for a in si["signed_attrs"]]
    assert sorted(signed) == ["content_type", "message_digest", "signing_certificate_v2"]
    assert "signing_time" not in signed  # EN 319 142-1: the time is /M, not a CMS attribute
    assert [a["type"].native for a in si["unsigned_attrs"]] == ["signature_time_stamp_token"]
    certs = {c.chosen.subject.human_friendly for c in sig.signed_data["certificates"]}
    assert any("electronic seal" in c for c in certs) and any("root CA" in c for c in certs)
