"""Data-box messages end to end through the HTTP API: intake → pipeline → delivery receipt.

The clock stands at the test PKI's validation time, so that signatures of the test PKI (and
their CRLs) are current. Runs on the embedded defaults, and the main path and idempotency also
on PostgreSQL + Redis + S3 (SeaweedFS).
"""

from __future__ import annotations

import base64
import hashlib
import io
import subprocess
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from asn1crypto import cms
from fastapi.testclient import TestClient
from sqlalchemy import func, select

import receipts
import schemas
from filing_registry import Filing, Submission, verify_chain
from intake.databox import DataboxMessage, Reference, build_envelope, create_token, revoke_token
from podatelna.accounts import Role
from podatelna.app import App
from podatelna.clock import FrozenClock
from podatelna.config import load_settings
from podatelna.web.api import create_api
from tests.pki import sample_pdf, shared_pki, t
from tests.services import REDIS_URL, require_port, require_tool
from tests.users import bearer

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
BOX = "abc1234"
OFFICE_BOX = "xyz9876"
API = "/api/v1/databox/messages"


def journal_entry(tc: Any, reference: str) -> dict[str, Any]:
    """The filing as a clerk sees it (the journal is not the sending system's to read)."""
    clerk = bearer(tc.app.state.app, "spisovna@mmo.example", role=Role.CLERK)
    reply = tc.get(f"/api/v1/filings/{reference}", headers=clerk)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def _settings(tmp_path: Path, **sections: Any):  # type: ignore[no-untyped-def]
    pki = shared_pki()
    base: dict[str, Any] = {
        "data_dir": str(tmp_path / "var"),
        "broker": {"sweep_interval_seconds": 1, "lease_seconds": 5},
        "trust": {
            "trusted_lists": [str(pki.tl_path)],
            "tl_signers": [str(pki.tl_signer_path)],
            "revocation": [str(p) for p in pki.crl_paths],
        },
        "databox": {
            "box_ids": [OFFICE_BOX],
            "max_total_bytes": 400_000,
            "max_files": 6,
            "max_archive_uncompressed_bytes": 3_000_000,
        },
    }
    for k, v in sections.items():
        base[k] = {**base[k], **v} if isinstance(base.get(k), dict) else v
    return load_settings(environ={}, overrides=base)


@pytest.fixture(params=["embedded", "postgres-redis-s3"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _client(
    request: pytest.FixtureRequest, tmp_path: Path, kind: str
) -> Iterator[tuple[TestClient, App]]:
    if kind == "embedded":
        settings = _settings(tmp_path)
    else:
        pg_url = request.getfixturevalue("pg_url")
        server = request.getfixturevalue("s3_server")
        from tests.s3server import unique_prefix

        require_port("Redis", "127.0.0.1", 6379)
        settings = _settings(
            tmp_path,
            database={"url": pg_url},
            broker={"kind": "redis", "url": REDIS_URL, "namespace": f"t{uuid.uuid4().hex[:8]}"},
            storage=server.storage_settings(unique_prefix()),
        )
    app = App(settings, clock=FrozenClock(t.VALIDATION_TIME))
    with TestClient(create_api(app, run_workers=True)) as tc:
        yield tc, app
    app.close()


@pytest.fixture
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, App]]:
    yield from _client(request, tmp_path, "embedded")


@pytest.fixture
def any_client(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> Iterator[tuple[TestClient, App]]:
    yield from _client(request, tmp_path, backend)


def token_for(app: App, *boxes: str) -> str:
    token, _ = create_token(app.sessions, sender_boxes=list(boxes or (BOX,)), now=app.clock.now())
    return token


def envelope(message_id: str | None = None, files: list | None = None, **kw: Any) -> bytes:
    args: dict[str, Any] = {
        "message_id": message_id or uuid.uuid4().hex[:20],
        "sender_box": BOX,
        "recipient_box": OFFICE_BOX,
        "subject": "Žádost o vydání rozhodnutí",
        "files": files or [("zadost.pdf", "application/pdf", "main", sample_pdf())],
        "sender_reference": Reference("ODS/7/2025", "SZ-7"),
    }
    args.update(kw)
    return build_envelope(**args)


def post(tc: TestClient, body: bytes, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return tc.post(API, content=body, headers=headers)


def wait_final(tc: TestClient, pk: str, token: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        info = tc.get(f"{API}/{pk}", headers={"Authorization": f"Bearer {token}"}).json()
        if info["state"] in ("delivered", "rejected") or time.monotonic() > deadline:
            return info
        time.sleep(0.1)


def get(tc: TestClient, path: str, token: str) -> Any:
    return tc.get(path, headers={"Authorization": f"Bearer {token}"})


def count(app: App, model: Any) -> int:
    with app.sessions() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def pdf_attachment(pdf: bytes, name: str) -> bytes:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return bytes(doc.attachments[name].get_file().read_bytes())


def token_imprint(token: bytes) -> bytes:
    tst = cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"].parsed
    return bytes(tst["message_imprint"]["hashed_message"].native)


# -- accepted messages -------------------------------------------------------------------------


@pytest.mark.integration
def test_plain_envelope_is_delivered_with_a_sealed_receipt(any_client, tmp_path: Path) -> None:
    tc, app = any_client
    pdfsig = require_tool("pdfsig")
    token = token_for(app)
    body = envelope(to_hands="Odbor dopravy", personal_delivery=False)
    r = post(tc, body, token)
    assert r.status_code == 202, r.text
    assert r.json()["created"] is True and r.json()["state"] == "received"
    pk = r.json()["id"]
    info = wait_final(tc, pk, token)
    assert info["state"] == "delivered", info
    ref = info["reference"]
    assert ref.startswith("MMO/") and info["recipient_reference"] == ref
    assert [e["state"] for e in info["events"]] == ["received", "timestamped", "delivered"]
    assert info["wire_form"] == "xml" and info["container"] is None
    # the filing: channel databox, sender box, recognised (own box), no confirmation needed
    filing = journal_entry(tc, ref)
    assert (filing["channel"], filing["sender"], filing["id"]) == ("databox", BOX, pk)
    assert filing["tracker_state"] == "not_required" and filing["deadline"] is None
    assert filing["form_type"] == "datova-zprava"
    assert filing["subject"] == "Žádost o vydání rozhodnutí"
    # the ordinary receipt names the form type in words, not by its code
    clerk = bearer(app, "spisovna@mmo.example", role=Role.CLERK)
    pdf = tc.get(f"/api/v1/filings/{ref}/receipt.pdf", headers=clerk)
    assert pdf.status_code == 200
    with pikepdf.open(io.BytesIO(pdf.content)) as doc:
        attached = b"".join(f.get_file().read_bytes() for f in doc.attachments.values())
    assert "Datová zpráva".encode() in attached and b">datova-zprava<" in attached
    # the original body is kept as it came
    with app.sessions() as s:
        msg = s.get(DataboxMessage, pk)
        assert msg is not None
        assert app.store.get("submissions", msg.original_key) == body
        message_hash = msg.envelope_sha256
    # delivery info XML: valid against its XSD; hash and token over the canonical envelope
    xml = get(tc, f"{API}/{pk}/delivery-info.xml", token)
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/xml")
    assert receipts.xml_errors("delivery-info", xml.content) == []
    assert require_tool("xmllint")
    xml_path = tmp_path / "doruceni.xml"
    xml_path.write_bytes(xml.content)
    lint = subprocess.run(
        ["xmllint", "--noout", "--schema", str(receipts.xsd_path("delivery-info")), str(xml_path)],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stderr
    from lxml import etree

    doc = etree.fromstring(xml.content)
    ns = {"d": "urn:cz:podatelna:documents:1"}
    assert doc.findtext("d:MessageHash", namespaces=ns) == message_hash
    assert doc.findtext("d:ReferenceNumber", namespaces=ns) == ref
    assert doc.findtext("d:Envelope/d:RecipientReference/d:ReferenceNumber", namespaces=ns) == ref
    assert doc.findtext("d:Envelope/d:SenderReference/d:FileMark", namespaces=ns) == "SZ-7"
    assert doc.findtext("d:Envelope/d:ToHands", namespaces=ns) == "Odbor dopravy"
    ts_token = base64.b64decode(doc.findtext("d:Timestamp/d:Token", namespaces=ns) or "")
    assert token_imprint(ts_token) == bytes.fromhex(message_hash)
    assert [e.text for e in doc.iterfind("d:Events/d:Event/d:State", ns)] == [
        "received",
        "timestamped",
        "delivered",
    ]
    # the sealed delivery receipt: pdfsig says valid, and it carries the same XML
    pdf = get(tc, f"{API}/{pk}/delivery-receipt.pdf", token)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    path = tmp_path / "dorucenka.pdf"
    path.write_bytes(pdf.content)
    out = subprocess.run([pdfsig, str(path)], capture_output=True, text=True).stdout
    assert "Signature is Valid." in out, out
    assert pdf_attachment(pdf.content, "doruceni.xml") == xml.content
    with app.sessions() as s:
        assert verify_chain(s).ok


@pytest.mark.integration
def test_cms_container_is_verified_and_delivered(client) -> None:
    tc, app = client
    token = token_for(app)
    zfo = shared_pki().sign_cades_enveloping("qseal", envelope(subject="Kontejner CMS"))
    r = post(tc, zfo, token)
    assert r.status_code == 202, r.text
    info = wait_final(tc, r.json()["id"], token)
    assert info["state"] == "delivered" and info["wire_form"] == "cms"
    (sig,) = info["container"]["signatures"]
    assert (sig["indication"], sig["qualification"]) == ("TOTAL_PASSED", "QESeal")
    assert "Firma" in sig["signer"]
    with app.sessions() as s:
        msg = s.get(DataboxMessage, info["id"])
        assert msg is not None and app.store.get("submissions", msg.original_key) == zfo
    xml = get(tc, f"{API}/{info['id']}/delivery-info.xml", token).content
    assert b"<WireForm>cms</WireForm>" in xml


@pytest.mark.integration
def test_signed_pdf_with_its_detached_signature_file(client) -> None:
    tc, app = client
    pki = shared_pki()
    token = token_for(app)
    signed = pki.sign_pdf("qes", sample_pdf("Smlouva o dilo"))
    p7s = pki.sign_cades_detached("qes", signed)
    body = envelope(
        files=[
            ("smlouva.pdf", "application/pdf", "main", signed),
            ("podpis.p7s", "application/pkcs7-signature", "signature", p7s, "smlouva.pdf"),
        ]
    )
    r = post(tc, body, token)
    assert r.status_code == 202, r.text
    info = wait_final(tc, r.json()["id"], token)
    assert info["state"] == "delivered", info
    with app.sessions() as s:
        sub = s.get(Submission, info["id"])
        assert sub is not None and sub.verification is not None
        files = {f["name"]: f for f in sub.verification["files"]}
        roles = {f.name: f.role for f in sub.files}
    assert roles == {"smlouva.pdf": "form", "podpis.p7s": "signature"}
    assert files["podpis.p7s"]["signs"] == "smlouva.pdf"
    assert files["podpis.p7s"]["signatures"][0]["qualification"] == "QESig"
    assert files["smlouva.pdf"]["signatures"][0]["format"] == "PAdES"
    assert files["smlouva.pdf"]["recognised"] and files["podpis.p7s"]["recognised"]
    filing = journal_entry(tc, info["reference"])
    assert filing["signatures"]["recognised"] is True


@pytest.mark.integration
def test_message_from_a_public_authoritys_box(client) -> None:
    tc, app = client
    token = token_for(app, "ovm0001")
    body = envelope(
        sender_box="ovm0001",
        sender_type="public-authority",
        sender_name="Krajský úřad Moravskoslezského kraje",
        sender_address="28. října 117, 702 18 Ostrava",
        legal_title={"law": "500", "year": "2004", "section": "47"},
    )
    r = post(tc, body, token)
    assert r.status_code == 202, r.text
    info = wait_final(tc, r.json()["id"], token)
    assert info["state"] == "delivered"
    filing = journal_entry(tc, info["reference"])
    assert filing["sender"] == "ovm0001" and filing["tracker_state"] == "not_required"
    xml = get(tc, f"{API}/{info['id']}/delivery-info.xml", token).content
    assert b"<Type>public-authority</Type>" in xml and b"<Section>47</Section>" in xml
    assert receipts.xml_errors("delivery-info", xml) == []


@pytest.mark.integration
def test_known_form_as_main_file_is_validated_against_its_xsd(client) -> None:
    tc, app = client
    token = token_for(app)
    form = schemas.sample_path("obecne-podani").read_bytes()
    good = post(tc, envelope(files=[("podani.xml", "application/xml", "main", form)]), token)
    info = wait_final(tc, good.json()["id"], token)
    assert info["state"] == "delivered"
    assert journal_entry(tc, info["reference"])["form_type"] == "obecne-podani"
    bad_form = schemas.sample_path("invalid-obecne-podani-chybi-vec").read_bytes()
    bad = post(tc, envelope(files=[("podani.xml", "application/xml", "main", bad_form)]), token)
    assert bad.status_code == 202
    info = wait_final(tc, bad.json()["id"], token)
    assert info["state"] == "rejected" and info["reference"] is None
    assert info["reasons"] and all(r["file"] == "podani.xml" for r in info["reasons"])
    assert [e["state"] for e in info["events"]] == ["received", "timestamped", "rejected"]
    assert get(tc, f"{API}/{info['id']}/delivery-receipt.pdf", token).status_code == 409


# -- rejected and refused messages -------------------------------------------------------------

PDF = (CORPUS / "minimal.pdf").read_bytes()
EXE = (CORPUS / "pe-named-pdf.bin").read_bytes()


def _zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name) if ".." in name else name, data)
    return buf.getvalue()


def _encrypted_zip() -> bytes:
    out = bytearray(_zip({"tajne.pdf": PDF}, zipfile.ZIP_STORED))
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = out.find(sig)
        out[i + at] |= 0x01
    return bytes(out)


MAIN = ("zadost.pdf", "application/pdf", "main", PDF)
REJECTIONS = {
    "main_missing": [("a.pdf", "application/pdf", "enclosure", PDF)],
    "main_duplicate": [MAIN, ("b.pdf", "application/pdf", "main", PDF)],
    "too_large": [
        MAIN,
        ("velky.pdf", "application/pdf", "enclosure", b"%PDF-1.4\n" + b"x" * 400_000),
    ],
    "too_many_files": [MAIN]
    + [(f"p{i}.pdf", "application/pdf", "enclosure", PDF) for i in range(6)],
    "format_not_allowed": [MAIN, ("faktura.pdf", "application/pdf", "enclosure", EXE)],
    "archive_bomb": [
        MAIN,
        ("bomba.zip", "application/zip", "enclosure", _zip({"0.txt": b"0" * 4_000_000})),
    ],
    "archive_nested": [
        MAIN,
        ("a.zip", "application/zip", "enclosure", _zip({"b.zip": _zip({"c.pdf": PDF})})),
    ],
    "archive_encrypted": [MAIN, ("e.zip", "application/zip", "enclosure", _encrypted_zip())],
    "archive_path_traversal": [
        MAIN,
        ("t.zip", "application/zip", "enclosure", _zip({"../../etc/cron.d/x": b"hello"})),
    ],
}


@pytest.mark.integration
@pytest.mark.parametrize("code", sorted(REJECTIONS))
def test_rejected_message_is_recorded_with_its_reasons(client, code: str) -> None:
    tc, app = client
    token = token_for(app)
    body = envelope(files=REJECTIONS[code])
    r = post(tc, body, token)
    assert r.status_code == 422, r.text
    out = r.json()
    assert out["code"] == "message_rejected" and out["state"] == "rejected"
    assert [x["code"] for x in out["reasons"]] == [code]
    info = get(tc, f"{API}/{out['id']}", token).json()
    assert info["state"] == "rejected" and info["reasons"] == out["reasons"]
    assert [e["state"] for e in info["events"]] == ["received", "rejected"]
    assert count(app, Submission) == 0  # nothing went into the pipeline
    again = post(tc, body, token)  # the same message again: the same answer
    assert again.status_code == 422 and again.json()["id"] == out["id"]
    assert again.json()["created"] is False


@pytest.mark.integration
def test_message_for_another_office_box_is_rejected(client) -> None:
    tc, app = client
    token = token_for(app)
    r = post(tc, envelope(recipient_box="jin0000"), token)
    assert r.status_code == 422
    assert [x["code"] for x in r.json()["reasons"]] == ["recipient_unknown"]


def _untrusted() -> bytes:
    return shared_pki().sign_cades_enveloping("unlisted", envelope())


def _not_covering() -> bytes:
    zfo = shared_pki().sign_cades_enveloping("qseal", envelope(subject="Puvodni vec"))
    return zfo.replace(b"Puvodni vec", b"Podvrzena!!")


@pytest.mark.integration
@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("untrusted_container", 422, "container_untrusted"),
        ("container_not_covering_content", 422, "container_signature_invalid"),
        ("token_for_another_box", 403, "sender_box_not_allowed"),
        ("revoked_token", 401, "token_revoked"),
        ("no_token", 401, "token_missing"),
        ("forged_token", 401, "token_invalid"),
        ("not_an_envelope", 400, "envelope_invalid"),
        ("body_over_limit", 413, "too_large"),
    ],
)
def test_refused_message_records_nothing(client, case: str, status: int, code: str) -> None:
    tc, app = client
    token: str | None = token_for(app)
    body = envelope()
    if case == "untrusted_container":
        body = _untrusted()
    elif case == "container_not_covering_content":
        body = _not_covering()
    elif case == "token_for_another_box":
        token = token_for(app, "jiny123")
    elif case == "revoked_token":
        assert token is not None
        revoke_token(app.sessions, token.split("_")[1], now=app.clock.now())
    elif case == "no_token":
        token = None
    elif case == "forged_token":
        assert token is not None
        token = token[:-4] + "AAAA"
    elif case == "body_over_limit":  # refused while it streams in, before it is parsed
        body = b"<" + b"x" * 3_000_000
    else:
        body = schemas.sample_path("obecne-podani").read_bytes()
    r = post(tc, body, token)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code and r.json()["message"]
    assert count(app, DataboxMessage) == 0 and count(app, Submission) == 0


@pytest.mark.integration
def test_reading_needs_a_token_of_the_senders_box(client) -> None:
    tc, app = client
    token = token_for(app)
    pk = post(tc, envelope(message_id="read-1"), token).json()["id"]
    assert get(tc, f"{API}/{pk}", token).json()["message_id"] == "read-1"
    assert get(tc, f"{API}/read-1", token).json()["id"] == pk  # by the envelope's message id
    other = token_for(app, "jiny123")
    assert get(tc, f"{API}/{pk}", other).status_code == 404
    assert tc.get(f"{API}/{pk}").status_code == 401


# -- idempotency -------------------------------------------------------------------------------


@pytest.mark.integration
def test_same_message_twice_gives_one_filing_and_the_same_receipt(any_client) -> None:
    tc, app = any_client
    token = token_for(app)
    body = envelope(message_id="dup-0001")
    first = post(tc, body, token)
    second = post(tc, body, token)
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert (first.json()["created"], second.json()["created"]) == (True, False)
    pk = first.json()["id"]
    info = wait_final(tc, pk, token)
    assert info["state"] == "delivered"
    pdf1 = get(tc, f"{API}/{pk}/delivery-receipt.pdf", token).content
    xml1 = get(tc, f"{API}/{pk}/delivery-info.xml", token).content
    # sent again after delivery: the same message, and the delivery receipt it already had
    third = post(tc, body, token)
    assert third.status_code == 202 and third.json()["id"] == pk
    assert third.json()["state"] == "delivered" and third.json()["created"] is False
    assert get(tc, f"{API}/{pk}/delivery-receipt.pdf", token).content == pdf1
    assert get(tc, f"{API}/{pk}/delivery-info.xml", token).content == xml1
    with app.sessions() as s:
        filings = s.execute(select(Filing).where(Filing.sender == BOX)).scalars().all()
    assert [f.submission_id for f in filings] == [pk]
    assert count(app, Submission) == 1 and count(app, DataboxMessage) == 1
    # the same message id with other content is a conflict, not a second message
    clash = post(tc, envelope(message_id="dup-0001", subject="Jiná věc"), token)
    assert clash.status_code == 409 and clash.json()["code"] == "message_id_conflict"
    # another sender box may use the same message id
    other_token = token_for(app, "jiny123")
    other = post(tc, envelope(message_id="dup-0001", sender_box="jiny123"), other_token)
    assert other.status_code == 202 and other.json()["id"] != pk
    assert hashlib.sha256(pdf1).hexdigest() != ""  # the receipt bytes compared above


@pytest.mark.integration
def test_message_recorded_by_a_request_that_died_is_taken_when_sent_again(client) -> None:
    """A request that recorded the message but died before its submission was written: the
    sender's retry with the same message id finds the message and completes it."""
    from intake.databox import messages, parse_envelope

    tc, app = client
    token = token_for(app)
    body = envelope(message_id="crash-1")
    env = parse_envelope(body, max_bytes=1 << 20)
    msg, created = messages.record(
        app.sessions,
        pk=uuid.uuid4().hex,
        envelope=env,
        token_id=token.split("_")[1],
        wire_form="xml",
        original_key="unused",
        container_report=None,
        envelope_dict=env.to_dict(),
        now=app.clock.now(),
    )
    assert created and count(app, Submission) == 0
    r = post(tc, body, token)
    assert r.status_code == 202 and r.json()["id"] == msg.id and r.json()["created"] is False
    assert wait_final(tc, msg.id, token)["state"] == "delivered"
    assert count(app, Submission) == 1
