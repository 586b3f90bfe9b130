"""End to end through the HTTP API: intake → validation → signatures → registry → receipt.

Run on the embedded defaults (SQLite, in-process broker, directory store) and on the production
components (PostgreSQL, Redis or RabbitMQ, S3 on a real SeaweedFS server).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import schemas
from filing_registry import verify_chain
from podatelna.app import App
from podatelna.config import load_settings
from podatelna.pipeline.runner import wait_for
from podatelna.web.api import create_api
from tests.services import real_broker, require_tool
from tests.users import bearer, sign_in

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def _settings(tmp_path: Path, **sections: object):
    base = {
        "data_dir": str(tmp_path / "var"),
        "broker": {"sweep_interval_seconds": 1, "lease_seconds": 5},
    }
    for k, v in sections.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            base[k] = {**base[k], **v}  # type: ignore[dict-item]
        else:
            base[k] = v
    return load_settings(environ={}, overrides=base)


@pytest.fixture(params=["embedded", "postgres-redis-s3", "postgres-rabbitmq-s3"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, App]]:
    if request.param == "embedded":
        settings = _settings(tmp_path)
    else:
        pg_url = request.getfixturevalue("pg_url")
        server = request.getfixturevalue("s3_server")
        from tests.s3server import unique_prefix

        settings = _settings(
            tmp_path,
            database={"url": pg_url},
            broker=real_broker(request.param.split("-")[1]),
            storage=server.storage_settings(unique_prefix()),
        )
    app = App(settings)
    with TestClient(create_api(app, run_workers=True)) as tc:
        sign_in(tc)
        yield tc, app
    app.close()


def post(
    tc: TestClient,
    form: bytes,
    *,
    name: str = "form.xml",
    sender: str = "jana@example.cz",
    attachments: list[tuple[str, bytes]] = (),
    key: str | None = None,
):  # type: ignore[assignment]
    files = [("form", (name, form, "application/xml"))]
    files += [("attachments", (n, d, "application/octet-stream")) for n, d in attachments]
    headers = {"Idempotency-Key": key} if key else {}
    headers.update(bearer(tc.app.state.app, sender))  # filed by that person's own account
    return tc.post(
        "/api/v1/submissions",
        files=files,
        data={"sender": sender, "sender_name": "Jana Nováková"},
        headers=headers,
    )


@pytest.mark.integration
def test_valid_form_is_registered_with_a_sealed_receipt(client) -> None:
    tc, app = client
    pdf = (CORPUS / "minimal.pdf").read_bytes()
    r = post(
        tc, schemas.sample_path("obecne-podani").read_bytes(), attachments=[("priloha.pdf", pdf)]
    )
    assert r.status_code == 202, r.text
    sid = r.json()["id"]
    assert r.json()["status_url"] == f"/api/v1/submissions/{sid}"
    assert wait_for(app, sid, timeout=90) == "completed"
    info = tc.get(f"/api/v1/submissions/{sid}").json()
    ref = info["reference"]
    assert ref.startswith("MMO/") and ref.endswith("/" + info["received_at"][:4])
    assert info["tracker_state"] == "awaiting_confirmation" and info["deadline"]
    assert [f["media_type"] for f in info["files"]] == ["application/xml", "application/pdf"]
    filing = tc.get(f"/api/v1/filings/{ref}").json()
    assert filing["id"] == sid
    receipt = tc.get(f"/api/v1/filings/{ref}/receipt.pdf")
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF")
    assert b"/ByteRange" in receipt.content
    with app.sessions() as s:
        assert verify_chain(s).ok


@pytest.mark.integration
def test_receipt_verifies_with_pdfsig(client, tmp_path: Path) -> None:
    import subprocess

    pdfsig = require_tool("pdfsig")
    tc, app = client
    r = post(tc, schemas.sample_path("parkovani").read_bytes())
    sid = r.json()["id"]
    assert wait_for(app, sid, timeout=90) == "completed"
    ref = tc.get(f"/api/v1/submissions/{sid}").json()["reference"]
    path = tmp_path / "r.pdf"
    path.write_bytes(tc.get(f"/api/v1/filings/{ref}/receipt.pdf").content)
    out = subprocess.run([pdfsig, str(path)], capture_output=True, text=True).stdout
    assert "Signature is Valid." in out


@pytest.mark.integration
def test_idempotency_key_and_payload_hash_return_the_same_submission(client) -> None:
    tc, app = client
    form = schemas.sample_path("obecne-podani").read_bytes()
    a = post(tc, form, key="k-1").json()
    b = post(tc, form, key="k-1").json()
    assert a["id"] == b["id"] and a["created"] and not b["created"]
    c = post(tc, form, sender="petr@example.cz").json()
    d = post(tc, form, sender="petr@example.cz").json()
    assert c["id"] == d["id"] and c["id"] != a["id"]
    for sid in {a["id"], c["id"]}:
        assert wait_for(app, sid, timeout=90) == "completed"
    petr = bearer(app, "petr@example.cz")
    refs = {
        tc.get(f"/api/v1/submissions/{a['id']}").json()["reference"],
        tc.get(f"/api/v1/submissions/{c['id']}", headers=petr).json()["reference"],
    }
    assert len(refs) == 2


@pytest.mark.integration
def test_invalid_form_is_rejected_with_errors_and_a_notice(client) -> None:
    tc, app = client
    r = post(tc, schemas.sample_path("invalid-parkovani-spatna-rz").read_bytes())
    sid = r.json()["id"]
    assert wait_for(app, sid, timeout=90) == "rejected"
    info = tc.get(f"/api/v1/submissions/{sid}").json()
    assert info["reference"] is None
    first = info["reasons"][0]
    assert first["code"] == "schema_invalid" and first["line"] and first["path"]
    assert info["rejection_notice"]
    assert app.store.get("receipts", info["rejection_notice"]).startswith(b"%PDF")


@pytest.mark.integration
def test_form_requiring_a_signature_is_rejected_unsigned(client) -> None:
    tc, app = client
    r = post(tc, schemas.sample_path("stavebni-ohlaseni").read_bytes())
    sid = r.json()["id"]
    assert wait_for(app, sid, timeout=90) == "rejected"
    info = tc.get(f"/api/v1/submissions/{sid}").json()
    assert info["reasons"][0]["code"] == "signature_required"


@pytest.mark.integration
def test_health_and_errors(client) -> None:
    tc, _app = client
    assert tc.get("/api/v1/health").json()["ok"] is True
    r = tc.get("/api/v1/submissions/nope")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = tc.post(
        "/api/v1/submissions",
        files=[("attachments", ("a.txt", b"x", "text/plain"))],
        data={"sender": "a@b.cz"},
    )
    assert r.status_code == 400 and r.json()["code"] == "form_missing"
    assert tc.get("/docs").status_code == 200


# -- the bad-input corpus, upload cases ---------------------------------------------------------

UPLOAD_CASES = [
    c
    for c in tomllib.loads((CORPUS / "cases.toml").read_text())["case"]
    if c["applies_to"] == "upload"
]


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[tuple[TestClient, App]]:
    app = App(_settings(tmp_path))
    with TestClient(create_api(app, run_workers=True)) as tc:
        sign_in(tc)
        yield tc, app
    app.close()


@pytest.mark.parametrize("case", UPLOAD_CASES, ids=[c["id"] for c in UPLOAD_CASES])
def test_upload_corpus(case: dict, embedded) -> None:
    tc, app = embedded
    data = (
        (CORPUS / case["file"]).read_bytes()
        if case["file"]
        else b"%PDF-" + b"0" * (case["size_bytes"] - 5)
    )
    r = post(
        tc, schemas.sample_path("obecne-podani").read_bytes(), attachments=[(case["name"], data)]
    )
    if r.status_code != 202:
        assert r.status_code == 413, r.text
        assert r.json()["code"] == case["code"]
        from filing_registry import Submission

        with app.sessions() as s:
            assert s.query(Submission).count() == 0  # nothing half written
        return
    sid = r.json()["id"]
    assert wait_for(app, sid, timeout=60) == "rejected"
    info = tc.get(f"/api/v1/submissions/{sid}").json()
    assert case["code"] in {x["code"] for x in info["reasons"]}, info["reasons"]
    # what was received stays stored
    assert len(info["files"]) == 2
