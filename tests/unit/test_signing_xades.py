"""XAdES enveloped in an XML form: verdict table (B-B) and hostile cases.

``TestPKI.sign_xades`` makes XAdES-B-B (no timestamp), so the expectations are those of an
untimestamped PAdES/CAdES signature validated at VALIDATION_TIME (see
``test_signing_verdicts.test_untimestamped_signature_uses_the_validation_time``): what a
timestamp would prove (revoked after, withdrawn after) is not available.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib

import pytest
from cryptography import x509 as pyca_x509
from lxml import etree
from signxml.verifier import SignatureConfiguration
from signxml.xades import XAdESVerifier

from signing import SignatureReport, load_trust, verify_file, verify_submission_files
from tests.pki import SIGNERS, sample_xml, shared_pki, t
from tests.unit.test_signing_verdicts import TABLE as TIMESTAMPED_TABLE

P, IND, F = "TOTAL_PASSED", "INDETERMINATE", "TOTAL_FAILED"
DS = "http://www.w3.org/2000/09/xmldsig#"
FORM = "urn:podatelna:test:form:1"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"

#: signer -> (qualification, indication, sub-indication, recognised) for XAdES-B-B
TABLE = {
    "qes": ("QESig", P, None, True),
    "qc_no_qscd": ("AdESig-QC", P, None, True),
    "qseal": ("QESeal", P, None, True),
    "nonqualified": ("AdESig", P, None, False),
    "expired": ("Indeterminate", IND, "OUT_OF_BOUNDS_NO_POE", False),
    "revoked_before": ("Indeterminate", IND, "REVOKED_NO_POE", False),
    "revoked_after": ("Indeterminate", IND, "REVOKED_NO_POE", False),
    "nonrep_only": ("QESig", P, None, True),
    "unlisted": ("Indeterminate", IND, "NO_CERTIFICATE_CHAIN_FOUND", False),
    "withdrawn": ("AdESig", P, None, False),
}


@pytest.fixture(scope="module")
def pki():
    return shared_pki()


@pytest.fixture(scope="module")
def trust(pki):
    return load_trust(pki.trust_settings())


@pytest.fixture(scope="module")
def signed_qes(pki) -> bytes:
    return pki.sign_xades("qes", sample_xml())


def _verify(data: bytes, trust):
    return verify_file(data, name="form.xml", trust=trust, at=t.VALIDATION_TIME)


def _only(report) -> SignatureReport:
    assert len(report.signatures) == 1
    return report.signatures[0]


def test_table_covers_every_signer():
    assert set(TABLE) == set(SIGNERS)


@pytest.mark.parametrize("signer", sorted(TABLE))
def test_verdict_table_xades(pki, trust, signer):
    report = _verify(pki.sign_xades(signer, sample_xml()), trust)
    sig = _only(report)
    qualification, indication, sub, recognised = TABLE[signer]
    assert (sig.qualification, sig.indication, sig.subindication) == (
        qualification,
        indication,
        sub,
    ), sig.reasons
    assert report.recognised is recognised
    assert sig.format == "XAdES" and sig.level == "B-B" and sig.timestamp is None
    assert sig.signer is not None
    assert sig.signer.subject == pki.signers[signer].asn1_cert.subject.human_friendly
    assert sig.signing_time is not None  # the claimed XAdES SigningTime
    assert sig.covers_whole_document is (indication == P)
    assert SignatureReport.from_dict(sig.to_dict()) == sig


def test_tampered_form_fails(trust, signed_qes):
    tampered = signed_qes.replace(b"<amount>100</amount>", b"<amount>900</amount>")
    assert tampered != signed_qes
    sig = _only(_verify(tampered, trust))
    assert (sig.indication, sig.subindication, sig.qualification) == (
        F,
        "HASH_FAILURE",
        "NotAdES",
    )
    assert not sig.recognised


def test_tampered_signature_value_fails(trust, signed_qes):
    root = etree.fromstring(signed_qes)
    value = root.find(f".//{{{DS}}}SignatureValue")
    raw = bytearray(value.text.encode())
    raw[5] = ord("A") if raw[5] != ord("A") else ord("B")
    value.text = raw.decode()
    sig = _only(_verify(etree.tostring(root), trust))
    assert sig.indication == F
    assert sig.subindication in {"SIG_CRYPTO_FAILURE", "FORMAT_FAILURE"}


def _wrapped(signed: bytes) -> bytes:
    """The original signed form moved into a wrapper; a forged root takes its place."""
    original = etree.fromstring(signed)
    signature = original.find(f"{{{DS}}}Signature")
    original.remove(signature)
    forged = etree.Element(f"{{{FORM}}}form", nsmap={None: FORM}, Id="forged")
    etree.SubElement(forged, f"{{{FORM}}}subject").text = "Zadost"
    etree.SubElement(forged, f"{{{FORM}}}amount").text = "999999"
    hidden = etree.SubElement(forged, f"{{{FORM}}}attachment")
    hidden.append(original)
    forged.append(signature)
    return etree.tostring(forged, xml_declaration=True, encoding="UTF-8")


def test_wrapped_reference_fails(pki, trust, signed_qes):
    wrapped = _wrapped(signed_qes)
    # signxml's core check alone accepts it: the reference still resolves to the hidden copy
    cert = pyca_x509.load_pem_x509_certificate(pki.signers["qes"].cert_pem)
    XAdESVerifier().verify(
        wrapped,
        x509_cert=cert,
        expect_config=SignatureConfiguration(
            expect_references=True, verification_time=t.VALIDATION_TIME
        ),
    )
    sig = _only(_verify(wrapped, trust))
    assert (sig.indication, sig.subindication, sig.qualification) == (
        F,
        "FORMAT_FAILURE",
        "NotAdES",
    )
    assert any("wrapping" in r for r in sig.reasons), sig.reasons
    assert not sig.recognised and not sig.covers_whole_document


def test_duplicate_ids_fail(trust, signed_qes):
    root = etree.fromstring(signed_qes)
    signature = root.find(f"{{{DS}}}Signature")
    # outside what the enveloped reference digests: only the identifier check can catch it
    etree.SubElement(signature, f"{{{DS}}}Object", Id="form")
    sig = _only(_verify(etree.tostring(root), trust))
    assert (sig.indication, sig.subindication) == (F, "FORMAT_FAILURE")
    assert any("more than one element" in r for r in sig.reasons), sig.reasons


def test_duplicate_namespaced_id_fails(trust, signed_qes):
    """An ``xml:id`` (or any prefixed Id) counts as an identifier too."""
    root = etree.fromstring(signed_qes)
    signature = root.find(f"{{{DS}}}Signature")
    obj = etree.SubElement(signature, f"{{{DS}}}Object")
    obj.set("{http://www.w3.org/XML/1998/namespace}id", "form")
    sig = _only(_verify(etree.tostring(root), trust))
    assert (sig.indication, sig.subindication) == (F, "FORMAT_FAILURE")
    assert any("more than one element" in r for r in sig.reasons), sig.reasons


def test_submission_form_with_xades_is_recognised(pki, trust, signed_qes):
    sub = verify_submission_files(
        [("form.xml", signed_qes), ("priloha.txt", b"x")], trust, at=t.VALIDATION_TIME
    )
    assert sub.recognised_for("form.xml") and not sub.recognised_for("priloha.txt")
    assert "XAdES" in sub.summary("en")
    unsigned = verify_submission_files([("form.xml", sample_xml())], trust, at=t.VALIDATION_TIME)
    assert not unsigned.recognised


def test_unsigned_xml_has_no_signatures(trust):
    report = _verify(sample_xml(), trust)
    assert report.signatures == ()
    assert not report.recognised


def test_dtd_is_not_processed(trust, signed_qes):
    body = signed_qes.split(b"?>", 1)[1]
    hostile = b'<?xml version="1.0"?><!DOCTYPE form [<!ENTITY x "y">]>' + body
    sig = _only(_verify(hostile, trust))
    assert (sig.indication, sig.subindication) == (F, "FORMAT_FAILURE")
    assert any("DTD" in r for r in sig.reasons)


def _with_signature_timestamp(pki, signed: bytes, *, over: bytes | None = None) -> bytes:
    """XAdES-B-T: a SignatureTimeStamp from the qualified TSA (at SIGN_TIME) over the
    canonical ds:SignatureValue (or over ``over``, to forge a timestamp of something else)."""
    root = etree.fromstring(signed)
    signature = root.find(f"{{{DS}}}Signature")
    value = signature.find(f"{{{DS}}}SignatureValue")
    covered = over if over is not None else etree.tostring(value, method="c14n")
    token = asyncio.run(
        pki.timestamper().async_timestamp(hashlib.sha256(covered).digest(), "sha256")
    )
    qp = signature.find(f"{{{DS}}}Object/{{{XADES}}}QualifyingProperties")
    up = etree.SubElement(qp, f"{{{XADES}}}UnsignedProperties")
    usp = etree.SubElement(up, f"{{{XADES}}}UnsignedSignatureProperties")
    st = etree.SubElement(usp, f"{{{XADES}}}SignatureTimeStamp", Id="sigts")
    etree.SubElement(st, f"{{{DS}}}CanonicalizationMethod", Algorithm=C14N)
    etree.SubElement(st, f"{{{XADES}}}EncapsulatedTimeStamp").text = base64.b64encode(
        token.dump()
    ).decode()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.mark.parametrize("signer", sorted(TIMESTAMPED_TABLE))
def test_verdict_table_xades_timestamped(pki, trust, signer):
    """With a SignatureTimeStamp the expectations are the PAdES/CAdES B-T ones."""
    data = _with_signature_timestamp(pki, pki.sign_xades(signer, sample_xml()))
    report = _verify(data, trust)
    sig = _only(report)
    qualification, indication, sub, recognised = TIMESTAMPED_TABLE[signer]
    assert (sig.qualification, sig.indication, sig.subindication) == (
        qualification,
        indication,
        sub,
    ), sig.reasons
    assert report.recognised is recognised
    assert sig.format == "XAdES" and sig.level == "B-T"
    assert sig.timestamp is not None
    assert sig.timestamp.time == t.SIGN_TIME.isoformat()
    if indication == P:
        assert sig.timestamp.qualified and sig.timestamp.indication == P
        assert sig.signing_time == t.SIGN_TIME.isoformat()


def test_timestamp_over_other_data_proves_nothing(pki, trust):
    signed = pki.sign_xades("revoked_after", sample_xml())
    data = _with_signature_timestamp(pki, signed, over=b"something else")
    sig = _only(_verify(data, trust))
    assert (sig.indication, sig.subindication) == (IND, "REVOKED_NO_POE"), sig.reasons
    assert any("timestamp does not verify" in r for r in sig.reasons), sig.reasons


def test_timestamp_does_not_cover_tampering(pki, trust):
    data = _with_signature_timestamp(pki, pki.sign_xades("qes", sample_xml()))
    tampered = data.replace(b"<amount>100</amount>", b"<amount>900</amount>")
    sig = _only(_verify(tampered, trust))
    assert (sig.indication, sig.subindication) == (F, "HASH_FAILURE")
