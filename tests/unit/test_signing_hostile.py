"""Hostile inputs: each must give the stated verdict (or refusal), never a PASSED."""

from __future__ import annotations

from io import BytesIO

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from signing import (
    DocumentReport,
    SubmissionReport,
    TrustListSignatureError,
    load_trust,
    verify_file,
    verify_submission_files,
)
from tests.pki import sample_pdf, shared_pki, t

DATA = b"Priloha podani: vypis z uctu\n"


@pytest.fixture(scope="module")
def pki():
    return shared_pki()


@pytest.fixture(scope="module")
def trust(pki):
    return load_trust(pki.trust_settings())


def _one(report):
    assert len(report.signatures) == 1
    return report.signatures[0]


def test_tampered_enveloped_content_fails(pki, trust):
    p7m = pki.sign_cades_enveloping("qes", DATA)
    bad = p7m.replace(b"vypis z uctu", b"vypis z UCTU")
    assert bad != p7m
    sig = _one(verify_file(bad, name="x.p7m", trust=trust, at=t.VALIDATION_TIME))
    assert (sig.indication, sig.subindication, sig.qualification) == (
        "TOTAL_FAILED",
        "HASH_FAILURE",
        "NotAdES",
    )


def test_tampered_signed_pdf_bytes_fail(pki, trust):
    pdf = pki.sign_pdf("qes", sample_pdf("Castka 100 Kc"))
    assert pdf.count(b"Castka 100 Kc") == 1
    bad = pdf.replace(b"Castka 100 Kc", b"Castka 900 Kc")
    report = verify_file(bad, name="x.pdf", trust=trust, at=t.VALIDATION_TIME)
    sig = _one(report)
    assert sig.indication == "TOTAL_FAILED" and sig.subindication == "HASH_FAILURE"
    assert not report.recognised


def test_detached_signature_over_different_content_fails(pki, trust):
    p7s = pki.sign_cades_detached("qes", DATA)
    sig = _one(
        verify_file(p7s, name="x.p7s", detached_content=b"other", trust=trust, at=t.VALIDATION_TIME)
    )
    assert (sig.indication, sig.subindication) == ("TOTAL_FAILED", "HASH_FAILURE")


def test_detached_signature_without_content_is_indeterminate(pki, trust):
    p7s = pki.sign_cades_detached("qes", DATA)
    sig = _one(verify_file(p7s, name="x.p7s", trust=trust, at=t.VALIDATION_TIME))
    assert sig.indication == "INDETERMINATE"


def test_incremental_update_replacing_page_content_fails(pki, trust):
    pdf = pki.sign_pdf("qes", sample_pdf())
    w = IncrementalPdfFileWriter(BytesIO(pdf))
    page = w.root["/Pages"]["/Kids"][0].get_object()
    stream = generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 700 Td (Zaplaceno) Tj ET")
    page["/Contents"] = w.add_object(stream)
    w.update_container(page)
    out = BytesIO()
    w.write(out)
    report = verify_file(out.getvalue(), name="x.pdf", trust=trust, at=t.VALIDATION_TIME)
    sig = _one(report)
    assert sig.modifications == "illegal"
    assert sig.indication == "TOTAL_FAILED"
    assert not sig.covers_whole_document
    assert not report.recognised


def test_signature_covering_only_part_of_the_file_is_not_recognised(pki, trust):
    pdf = pki.sign_pdf("qes", sample_pdf())
    bad = pdf + b"\n1 0 obj (unsigned tail) endobj\n"
    report = verify_file(bad, name="x.pdf", trust=trust, at=t.VALIDATION_TIME)
    sig = _one(report)
    assert not sig.covers_whole_document
    assert not report.recognised


def test_second_signature_keeps_the_document_recognised(pki, trust):
    pdf = pki.sign_pdf("nonqualified", sample_pdf())
    pdf = pki.sign_pdf("qes", pdf, field_name="Signature2")
    report = verify_file(pdf, name="x.pdf", trust=trust, at=t.VALIDATION_TIME)
    first, second = report.signatures
    assert first.modifications == "permitted" and not first.covers_whole_document
    assert first.indication == "TOTAL_PASSED"
    assert second.recognised and report.recognised


def test_trusted_list_with_broken_signature_is_refused(pki):
    raw = pki.tl_path.read_bytes()
    bad = raw.replace(b"Test Qualified CA</", b"Test Qualified CB</", 1)
    assert bad != raw
    path = pki.root / "tl-broken.xml"
    path.write_bytes(bad)
    with pytest.raises(TrustListSignatureError) as info:
        load_trust(pki.trust_settings(trusted_lists=(str(path),)))
    assert info.value.code == "trusted_list_signature_invalid"
    assert str(path) in str(info.value)


def test_trusted_list_signed_by_unconfigured_signer_is_refused(pki):
    path = pki.write_trusted_list("tl-rogue.xml", signer=pki.rogue_tl_signer)
    with pytest.raises(TrustListSignatureError):
        load_trust(pki.trust_settings(trusted_lists=(str(path),)))


def test_unsigned_trusted_list_is_refused(pki):
    path = pki.write_trusted_list("tl-unsigned.xml", signer=None)
    with pytest.raises(TrustListSignatureError):
        load_trust(pki.trust_settings(trusted_lists=(str(path),)))


def test_submission_pairs_detached_signatures_and_round_trips(pki, trust):
    pdf = sample_pdf()
    files = [
        ("form.xml", b"<form/>"),
        ("priloha.pdf", pdf),
        ("priloha.pdf.p7s", pki.sign_cades_detached("qseal", pdf)),
        ("renamed.p7s", pki.sign_cades_detached("qes", DATA)),
        ("data.txt", DATA),
    ]
    sub = verify_submission_files(files, trust, at=t.VALIDATION_TIME)
    by_name = {f.name: f for f in sub.files}
    assert by_name["priloha.pdf.p7s"].signs == "priloha.pdf"
    assert by_name["renamed.p7s"].signs == "data.txt"
    assert by_name["form.xml"].signatures == ()
    assert sub.recognised and sub.recognised_for("data.txt") and not sub.recognised_for("form.xml")
    again = SubmissionReport.from_dict(sub.to_dict())
    assert again == sub
    doc = by_name["priloha.pdf.p7s"]
    assert DocumentReport.from_dict(doc.to_dict()) == doc
    cs, en = doc.summary("cs"), doc.summary("en")
    assert "kvalifikovaná elektronická pečeť" in cs and "Uznávaný podpis" in cs
    assert "qualified electronic seal" in en and "Recognised signature" in en


def test_xades_form_signed_by_a_qualified_signer_is_recognised(pki, trust):
    from tests.pki import sample_xml

    xml = pki.sign_xades("qes", sample_xml())
    sig = _one(verify_file(xml, name="form.xml", trust=trust, at=t.VALIDATION_TIME))
    assert sig.format == "XAdES" and sig.indication == "TOTAL_PASSED"
    assert sig.qualification == "QESig" and sig.recognised
