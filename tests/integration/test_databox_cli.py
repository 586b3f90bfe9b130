"""``podatelna databox send`` and ``podatelna databox token create|list|revoke`` through the real
CLI entry point, on the embedded defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from intake.databox import build_envelope
from podatelna.cli import main
from tests.pki import sample_pdf


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "podatelna.toml"
    cfg.write_text(
        f'data_dir = "{tmp_path / "var"}"\n[databox]\nbox_ids = ["xyz9876"]\n', encoding="utf-8"
    )
    return cfg


def _envelope(tmp_path: Path, message_id: str) -> Path:
    path = tmp_path / f"{message_id}.xml"
    path.write_bytes(
        build_envelope(
            message_id=message_id,
            sender_box="abc1234",
            recipient_box="xyz9876",
            subject="Podání z příkazové řádky",
            files=[("zadost.pdf", "application/pdf", "main", sample_pdf())],
        )
    )
    return path


def run(cfg: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["--config", str(cfg), *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.integration
def test_token_lifecycle_and_send(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _config(tmp_path)
    rc, out, _ = run(
        cfg, capsys, "databox", "token", "create", "--sender-box", "abc1234", "--name", "GW"
    )
    assert rc == 0
    token = out.strip().splitlines()[-1]
    assert token.startswith("pdbx_")
    rc, out, _ = run(cfg, capsys, "databox", "token", "list", "--json")
    (listed,) = json.loads(out)
    assert listed["sender_boxes"] == ["abc1234"] and listed["revoked"] is False
    assert token.split("_", 2)[2] not in out  # the secret (which may hold "_") is never listed

    msg = _envelope(tmp_path, "cli-1")
    rc, out, err = run(
        cfg, capsys, "databox", "send", str(msg), "--token", token, "--wait", "--json"
    )
    assert rc == 0, err
    info = json.loads(out)
    assert info["state"] == "delivered" and info["reference"].startswith("MMO/")
    assert info["recipient_reference"] == info["reference"]
    assert info["delivery_receipt_url"].endswith("/delivery-receipt.pdf")

    monkeypatch.setenv("DATABOX_TOKEN", token)  # the token from the environment; sent again
    rc, out, _ = run(cfg, capsys, "databox", "send", str(msg), "--json")
    assert rc == 0 and json.loads(out)["id"] == info["id"]

    rc, out, _ = run(cfg, capsys, "databox", "token", "revoke", listed["id"])
    assert rc == 0 and "revoked" in out
    rc, _, err = run(cfg, capsys, "databox", "send", str(_envelope(tmp_path, "cli-2")))
    assert rc == 1 and "[token_revoked]" in err


@pytest.mark.integration
def test_send_reports_a_rejection(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path)
    _, out, _ = run(cfg, capsys, "databox", "token", "create", "--sender-box", "abc1234")
    token = out.strip().splitlines()[-1]
    path = tmp_path / "bad.xml"
    path.write_bytes(
        build_envelope(
            message_id="cli-bad",
            sender_box="abc1234",
            recipient_box="xyz9876",
            subject="Bez hlavního dokumentu",
            files=[("priloha.pdf", "application/pdf", "enclosure", sample_pdf())],
        )
    )
    rc, out, _ = run(cfg, capsys, "databox", "send", str(path), "--token", token)
    assert rc == 1
    assert "rejected" in out and "no file with role 'main'" in out
    rc, _, err = run(cfg, capsys, "databox", "token", "create", "--sender-box", "NOPE")
    assert rc == 2
