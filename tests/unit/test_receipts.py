"""Receipt rendering: content, XML against its XSD, PDF/A-3b essentials, determinism."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest
from lxml import etree

from receipts import (
    ReceiptDataError,
    receipt_key,
    rejection_key,
    render_receipt,
    xml_errors,
)
from receipts.samples import sample_receipt
from tests.unit.test_seal_support import (
    attachments,
    pdfa_problems,
    pdfa_validator_findings,
    pdftotext,
)

NS = {"d": "urn:cz:podatelna:documents:1"}


@pytest.fixture(scope="module")
def receipt_pdf() -> bytes:
    return render_receipt(sample_receipt())


def test_receipt_xml_is_valid_and_matches_the_data() -> None:
    data = sample_receipt()
    xml = data.to_xml()
    assert xml_errors("receipt", xml) == []
    root = etree.fromstring(xml)
    assert root.findtext("d:ReferenceNumber", namespaces=NS) == "MMO/00042/2026"
    # received 09:15:30 UTC on 2 March 2026 = 10:15:30 in Prague (CET, +01:00)
    assert root.findtext("d:ReceivedAt", namespaces=NS) == "2026-03-02T10:15:30+01:00"
    assert root.findtext("d:Sender/d:Email", namespaces=NS) == "jiri.novacek@example.cz"
    files = root.findall("d:Files/d:File", namespaces=NS)
    assert [f.findtext("d:Sha256", namespaces=NS) for f in files] == [f.sha256 for f in data.files]
    assert [int(f.findtext("d:Size", namespaces=NS)) for f in files] == [f.size for f in data.files]
    assert root.find("d:Confirmation", namespaces=NS).get("needed") == "true"
    assert root.findtext("d:Confirmation/d:Deadline", namespaces=NS) == "2026-03-09"
    assert root.findtext("d:Verification/d:Url", namespaces=NS) == data.verification_url


def test_summer_time_is_printed_with_its_offset() -> None:
    data = replace(
        sample_receipt(), received_at=datetime.fromisoformat("2026-07-01T22:30:01+00:00")
    )
    root = etree.fromstring(data.to_xml())
    assert root.findtext("d:ReceivedAt", namespaces=NS) == "2026-07-02T00:30:01+02:00"


def test_an_invalid_receipt_xml_is_reported() -> None:
    xml = sample_receipt().to_xml().replace(b"<Channel>portal", b"<Channel>fax")
    assert any("Channel" in e for e in xml_errors("receipt", xml))


def test_control_characters_in_caller_text_do_not_break_the_xml() -> None:
    data = replace(sample_receipt(), subject="Věc\x00 s\x1b řídicími znaky")
    xml = data.to_xml()
    assert xml_errors("receipt", xml) == []
    assert "Věc\ufffd s\ufffd řídicími znaky" in xml.decode()


def test_naive_times_and_missing_deadlines_are_refused() -> None:
    with pytest.raises(ReceiptDataError, match="timezone-aware"):
        replace(sample_receipt(), received_at=datetime(2026, 3, 2, 10, 0))
    with pytest.raises(ReceiptDataError, match="deadline"):
        replace(sample_receipt(), confirmation_deadline=None)
    with pytest.raises(ReceiptDataError, match="channel"):
        replace(sample_receipt(), channel="fax")  # type: ignore[arg-type]


def test_receipt_pdf_carries_its_xml_as_associated_file(receipt_pdf: bytes) -> None:
    att = attachments(receipt_pdf)
    assert set(att) == {"potvrzeni.xml"}
    relationship, xml = att["potvrzeni.xml"]
    assert relationship == "/Data"
    assert xml == sample_receipt().to_xml()
    assert xml_errors("receipt", xml) == []


def test_receipt_pdf_is_pdfa_3b(receipt_pdf: bytes) -> None:
    assert pdfa_problems(receipt_pdf) == []
    assert pdfa_validator_findings(receipt_pdf) == []


def test_receipt_text_is_czech_and_complete(receipt_pdf: bytes, tmp_path) -> None:
    text = pdftotext(receipt_pdf, tmp_path)
    data = sample_receipt()
    for expected in (
        "Potvrzení o přijetí podání",
        "Magistrát města Ostravy",
        "MMO/00042/2026",
        "2. 3. 2026 10:15:30 SEČ (UTC+01:00)",
        "Ing. Jiří Nováček",
        "Žádost o opravu poškozeného chodníku",
        "fotografie-chodníku.jpg",
        data.files[0].sha256[:32],
        "9. 3. 2026",
        data.verification_code,
    ):
        assert expected in text, expected


def test_rendering_is_deterministic(receipt_pdf: bytes) -> None:
    assert render_receipt(sample_receipt()) == receipt_pdf
    assert render_receipt(sample_receipt(43)) != receipt_pdf


def test_a_receipt_without_confirmation_says_so(tmp_path) -> None:
    pdf = render_receipt(sample_receipt(confirmation_needed=False))
    assert "potvrzovat je není třeba" in pdftotext(pdf, tmp_path)


def test_storage_keys_are_stable_and_safe() -> None:
    at = datetime.fromisoformat("2026-12-31T23:30:00+00:00")  # already 2027 in Prague
    assert receipt_key("MMO/00042/2026", at) == "receipts/2027/MMO-00042-2026.pdf"
    assert receipt_key("../../etc/passwd", at) == "receipts/2027/-..-etc-passwd.pdf"
    assert "/" not in receipt_key("a/b", at).removeprefix("receipts/2027/")
    assert rejection_key("01HZX", at) == "rejections/2027/01HZX.pdf"
    assert date(2026, 1, 1)  # keys take dates for journal exports (see test_receipts_exports)
