"""Rejection notice, copy, personal export and journal: XML, attachments, PDF/A, content."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from receipts import (
    CopyData,
    RenderError,
    render_copy,
    render_journal,
    render_personal_export,
    render_rejection,
    xml_errors,
)
from receipts.render_copy import form_rows
from receipts.samples import (
    sample_copy,
    sample_journal,
    sample_personal_export,
    sample_rejection,
)
from tests.services import require_tool
from tests.unit.test_seal_support import (
    attachments,
    pdfa_problems,
    pdfa_validator_findings,
    pdftotext,
)

NS = {"d": "urn:cz:podatelna:documents:1"}

DOCUMENTS = {
    "rejection": (sample_rejection, render_rejection, "odmitnuti.xml"),
    "copy": (sample_copy, render_copy, "opis.xml"),
    "personal-export": (sample_personal_export, render_personal_export, "vypis.xml"),
    "journal": (lambda: sample_journal(40), render_journal, "denik.xml"),
}


@pytest.fixture(scope="module", params=sorted(DOCUMENTS))
def document(request: pytest.FixtureRequest):
    make, render, xml_name = DOCUMENTS[request.param]
    data = make()
    return request.param, data, render(data), xml_name


def test_xml_is_valid_and_attached(document) -> None:
    kind, data, pdf, xml_name = document
    xml = data.to_xml()
    assert xml_errors(kind, xml) == []
    att = attachments(pdf)
    assert att[xml_name] == ("/Data", xml)


def test_document_is_pdfa_3b(document) -> None:
    _kind, _data, pdf, _name = document
    assert pdfa_problems(pdf) == []
    assert pdfa_validator_findings(pdf) == []


def test_rejection_lists_every_reason(tmp_path: Path) -> None:
    data = sample_rejection()
    text = pdftotext(render_rejection(data), tmp_path)
    assert "Oznámení o odmítnutí podání" in text
    assert "chybí povinný údaj (předmět podání)" in text
    assert "/podani/vec" in text
    root = etree.fromstring(data.to_xml())
    reasons = root.findall("d:Reasons/d:Reason", namespaces=NS)
    assert [r.findtext("d:Line", namespaces=NS) for r in reasons] == ["3", None]
    assert reasons[0].findtext("d:Path", namespaces=NS) == "/podani/vec"


def test_copy_has_the_reference_on_every_page_and_a_signature_line(tmp_path: Path) -> None:
    pdf = render_copy(sample_copy())
    p = tmp_path / "copy.pdf"
    p.write_bytes(pdf)
    exe = require_tool("pdftotext")
    pages = subprocess.run([exe, str(p), "-"], capture_output=True, text=True, check=True)
    texts = [t for t in pages.stdout.split("\f") if t.strip()]
    assert len(texts) >= 2  # the sample form is long enough for two pages
    for page in texts:
        assert "č. j. MMO/00042/2026" in page
    flat = " ".join(pages.stdout.split())
    assert "Podpis: ....." in flat and "dne ....." in flat
    assert "Českobratrská" in flat and "Nováček" in flat  # form values, Czech intact


def test_copy_attaches_the_form_as_submitted() -> None:
    data = sample_copy()
    att = attachments(render_copy(data))
    assert att["formular.xml"] == ("/Source", data.form_xml)
    root = etree.fromstring(att["opis.xml"][1])
    import base64

    assert base64.b64decode(root.findtext("d:FormXml", namespaces=NS)) == data.form_xml


def test_copy_rows_follow_the_form_structure() -> None:
    rows = form_rows(sample_copy().form_xml)
    assert rows[0] == (0, "Podani", None)
    assert (1, "Verze", "1.0") in rows
    assert (1, "Podatel", None) in rows
    assert (2, "Cislo popisne", "1663") in rows


def test_copy_does_not_expand_entities_of_a_hostile_form() -> None:
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<podani><jmeno>&x;</jmeno></podani>"
    )
    rows = form_rows(hostile)
    assert all("root:" not in (v or "") for _d, _l, v in rows)
    with pytest.raises(RenderError):
        render_copy(
            CopyData(
                "X/1/2026", sample_copy().authority, sample_copy().received_at, "x", b"<neuzavreny>"
            )
        )


def test_personal_export_json_matches_the_data(tmp_path: Path) -> None:
    data = sample_personal_export()
    pdf = render_personal_export(data)
    relationship, raw = attachments(pdf)["vypis.json"]
    assert relationship == "/Data"
    doc = json.loads(raw)
    assert doc == data.to_dict()
    assert doc["sender"]["email"] == "jiri.novacek@example.cz"
    assert doc["submissions"][0]["received_at"] == "2026-03-02T10:15:30+01:00"
    assert doc["filings"][0]["deadline"] == "2026-03-09"
    text = pdftotext(pdf, tmp_path)
    for heading in ("Výpis osobních údajů", "Podání (1)", "Záznamy o úkonech"):
        assert heading in text
    assert "submission.received" in text


def test_journal_xml_matches_its_entries() -> None:
    data = sample_journal(40)
    root = etree.fromstring(data.to_xml())
    entries = root.findall("d:Entries/d:Entry", namespaces=NS)
    assert [e.findtext("d:ReferenceNumber", namespaces=NS) for e in entries] == [
        e.reference for e in data.entries
    ]
    assert entries[1].findtext("d:Sender/d:BoxId", namespaces=NS) == "a7kbrrn"
    assert json.loads(data.to_json())["entries"][0]["reference"] == "MMO/00001/2026"


def test_an_empty_journal_renders(tmp_path: Path) -> None:
    data = sample_journal(0)
    assert xml_errors("journal", data.to_xml()) == []
    assert "V tomto období nebylo nic podáno." in pdftotext(render_journal(data), tmp_path)
