"""Copies, exports and download links through the CLI and the HTTP API (embedded defaults)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pikepdf
import pytest
from fastapi.testclient import TestClient

import schemas
from podatelna.app import App
from podatelna.cli import main
from podatelna.config import load_settings
from podatelna.pipeline.runner import wait_for
from podatelna.web.api import create_api
from tests.services import require_tool
from tests.users import sign_in


@pytest.fixture
def filed(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PODATELNA_DATA_DIR", str(tmp_path / "var"))
    app = App(load_settings())
    with TestClient(create_api(app, run_workers=True)) as tc:
        sign_in(tc, "petr.dvorak@example.cz", first_name="Petr", surname="Dvořák")
        r = tc.post(
            "/api/v1/submissions",
            files=[
                (
                    "form",
                    ("f.xml", schemas.sample_path("parkovani").read_bytes(), "application/xml"),
                )
            ],
            data={"sender": "petr.dvorak@example.cz", "sender_name": "Petr Dvořák"},
        )
        sid = r.json()["id"]
        assert wait_for(app, sid, timeout=90) == "completed"
        ref = tc.get(f"/api/v1/submissions/{sid}").json()["reference"]
        yield tc, app, ref
    app.close()


def _pdfsig_valid(path: Path) -> bool:
    out = subprocess.run([require_tool("pdfsig"), str(path)], capture_output=True, text=True)
    return "Signature is Valid." in out.stdout


@pytest.mark.integration
def test_copy_is_sealed_carries_the_reference_and_is_issued_once(filed, tmp_path) -> None:
    tc, app, ref = filed
    first = tc.get(f"/api/v1/filings/{ref}/copy.pdf")
    assert first.status_code == 200
    assert tc.get(f"/api/v1/filings/{ref}/copy.pdf").content == first.content
    out = tmp_path / "copy.pdf"
    assert main(["copy", ref, "--output", str(out)]) == 0
    assert out.read_bytes() == first.content
    assert _pdfsig_valid(out)
    text = subprocess.run(
        [require_tool("pdftotext"), str(out), "-"], capture_output=True, text=True
    ).stdout
    assert ref in text


@pytest.mark.integration
def test_receipt_cli_writes_the_stored_receipt(filed, tmp_path) -> None:
    tc, _app, ref = filed
    out = tmp_path / "r.pdf"
    assert main(["receipt", ref, "--output", str(out)]) == 0
    assert out.read_bytes() == tc.get(f"/api/v1/filings/{ref}/receipt.pdf").content


@pytest.mark.integration
def test_personal_export_pdf_json_and_expiring_link(filed, tmp_path, capsys) -> None:
    tc, _app, ref = filed
    out = tmp_path / "export"
    assert (
        main(["export", "personal", "--sender", "petr.dvorak@example.cz", "--output", str(out)])
        == 0
    )
    data = json.loads((out / "export.json").read_text())
    assert [f["reference"] for f in data["filings"]] == [ref]
    assert any(e["action"] == "submission.received" for e in data["audit_entries"])
    assert _pdfsig_valid(out / "export.pdf")
    with pikepdf.open(out / "export.pdf") as pdf:
        assert pdf.attachments  # the JSON/XML travel inside the sealed PDF
    link = capsys.readouterr().out.strip().splitlines()[-1].split(": ", 1)[1]
    got = tc.get(link)
    assert got.status_code == 200 and got.content == (out / "export.pdf").read_bytes()
    forged = link[:-4] + ("0000" if not link.endswith("0000") else "1111")
    assert tc.get(forged).status_code == 403


@pytest.mark.integration
def test_journal_export(filed, tmp_path) -> None:
    _tc, app, ref = filed
    day = app.clock.now().astimezone(ZoneInfo("Europe/Prague")).date().isoformat()
    out = tmp_path / "j"
    assert main(["export", "journal", "--from", day, "--to", day, "--output", str(out)]) == 0
    assert ref.encode() in (out / "journal.xml").read_bytes()
    assert _pdfsig_valid(out / "journal.pdf")


@pytest.mark.integration
def test_personal_export_covers_the_addresses_a_person_used_before(filed) -> None:
    from podatelna import documents

    _tc, app, ref = filed
    only_new = json.loads(documents.personal_export(app, "petr@novy.example").data)
    assert only_new["filings"] == [] and only_new["submissions"] == []
    both = json.loads(
        documents.personal_export(
            app, "petr@novy.example", former=("petr@novy.example", "petr.dvorak@example.cz")
        ).data
    )
    assert [f["reference"] for f in both["filings"]] == [ref]
    seqs = [e["seq"] for e in both["audit_entries"]]
    assert seqs == sorted(set(seqs)) and seqs
