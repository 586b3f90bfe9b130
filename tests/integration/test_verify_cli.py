"""``podatelna verify`` and ``podatelna trust refresh`` through the real CLI entry point."""

from __future__ import annotations

import json

from podatelna.cli import main
from tests.pki import sample_pdf, shared_pki, t


def test_verify_json_report(tmp_path, capsys):
    pki = shared_pki()
    pdf = tmp_path / "signed.pdf"
    pdf.write_bytes(pki.sign_pdf("qes", sample_pdf()))
    argv = ["verify", str(pdf), "--trusted-list", str(pki.tl_path)]
    argv += ["--tl-signer", str(pki.tl_signer_path)]
    for crl in pki.crl_paths:
        argv += ["--revocation", str(crl)]
    argv += ["--at", t.VALIDATION_TIME.isoformat(), "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["recognised"] is True
    (sig,) = out["signatures"]
    assert sig["qualification"] == "QESig" and sig["indication"] == "TOTAL_PASSED"
    assert set(sig) >= {"format", "level", "signer", "timestamp", "modifications", "reasons"}


def test_verify_refuses_unsigned_trusted_list(tmp_path, capsys):
    pki = shared_pki()
    tl = pki.write_trusted_list("cli-unsigned.xml", signer=None)
    pdf = tmp_path / "signed.pdf"
    pdf.write_bytes(pki.sign_pdf("qes", sample_pdf()))
    rc = main(
        ["verify", str(pdf), "--trusted-list", str(tl), "--tl-signer", str(pki.tl_signer_path)]
    )
    assert rc == 1
    assert "trusted_list_signature_invalid" in capsys.readouterr().err


def test_trust_refresh_is_off_by_default(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert main(["trust", "refresh"]) == 1
    assert "allow_fetching" in capsys.readouterr().err
