"""Receipt verification by code: the code printed on a real receipt finds its filing; what comes
back carries no personal data; malformed, unknown and not-yet-issued codes give ``None``.

SQLite and the filesystem store (embedded defaults under ``tmp_path``); the pipeline runs inline.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from lxml import etree

import schemas
from filing_registry import Filing, StatusEvent, SubmissionFile
from intake import Incoming, IncomingFile, Sender
from podatelna.app import App
from podatelna.config import load_settings
from podatelna.receipt_lookup import lookup_receipt, normalize_code
from podatelna.service import file_submission
from tests.dbs import new_submission

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def app(tmp_path: Path) -> Any:
    app = App(load_settings(environ={"PODATELNA_DATA_DIR": str(tmp_path / "var")}))
    app.migrate()
    app.ensure_buckets()
    yield app
    app.close()


def _run_pipeline(app: App, outbox: Any) -> None:
    todo = list(outbox)
    while todo:
        _id, stage, sid = todo.pop(0)
        todo.extend(app.pipeline.run_inline(sid, stage))


def _receipt_code(pdf_bytes: bytes) -> str:
    """The verification code as the receipt states it (its attached XML, ``Verification/Code``)."""
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        xml = pdf.attachments["potvrzeni.xml"].get_file().read_bytes()
    codes = etree.fromstring(xml).xpath(
        "//*[local-name()='Verification']/*[local-name()='Code']/text()"
    )
    assert len(codes) == 1
    return str(codes[0])


def test_the_code_on_a_real_receipt_finds_the_filing_without_personal_data(app: App) -> None:
    attachment = b"Dobry den, posilam podani.\n"
    with schemas.sample_path("obecne-podani").open("rb") as form:
        acc = file_submission(
            app,
            Incoming(
                channel="portal",
                sender=Sender("jana.novakova@example.cz", "Jana Nováková"),
                form=IncomingFile("obecne-podani.xml", form, role="form"),
                attachments=[IncomingFile("poznamka.txt", io.BytesIO(attachment))],
                idempotency_key=f"lookup-{uuid.uuid4().hex}",
            ),
        )
    _run_pipeline(app, acc.outbox_ids)
    with app.sessions() as session:
        filing = session.query(Filing).one()
        reference, receipt_key = filing.reference, filing.receipt_key
        stored = [(f.name, f.size, f.sha256) for f in filing.submission.files]
    assert receipt_key
    code = _receipt_code(app.store.get("receipts", receipt_key))

    info = lookup_receipt(app, code)
    assert info is not None
    assert info.code == code
    assert info.reference == reference
    assert [(f.name, f.size, f.sha256) for f in info.files] == stored
    assert ("poznamka.txt", len(attachment), hashlib.sha256(attachment).hexdigest()) in stored
    assert info.issued_at is not None and info.issued_at >= info.received_at
    shown = json.dumps(info.to_json(), ensure_ascii=False)
    for personal in ("jana", "Nováková", "example.cz"):
        assert personal not in shown
    # typed by hand: lower case, grouped with spaces or dashes; or scanned from the QR code
    assert lookup_receipt(app, f"  {code.lower()[:10]} - {code.lower()[10:]} ") == info
    assert lookup_receipt(app, f"http://127.0.0.1:8000/verify/{code}") == info


def _filing(app: App, *, receipt: bool, issued_at: datetime | None = None) -> str:
    """A registered filing with one file; with ``receipt``, its receipt stored and the event."""
    sub = new_submission(T0)
    code = uuid.uuid4().hex[:20].upper()
    with app.sessions() as session, session.begin():
        session.add(sub)
        session.add(
            SubmissionFile(
                submission_id=sub.id,
                position=0,
                role="form",
                name="form.xml",
                size=3,
                media_type="application/xml",
                sha256="ab" * 32,
                storage_key="sha256/ab/" + "ab" * 32,
            )
        )
        filing = Filing(
            submission_id=sub.id,
            reference=f"MMO/{uuid.uuid4().int % 10**5:05d}/2026",
            office="MMO",
            year=2026,
            seq=uuid.uuid4().int % 10**6,
            received_at=T0,
            registered_at=T0,
            channel="portal",
            sender=sub.sender,
            form_type="obecne-podani",
            form_version="1.0",
            receipt_id=code,
            receipt_key=f"2026/03/{code}.pdf" if receipt else None,
        )
        session.add(filing)
        session.flush()
        if receipt:
            session.add(
                StatusEvent(
                    submission_id=sub.id,
                    filing_id=filing.id,
                    at=issued_at or T0,
                    state="receipt_issued",
                )
            )
    return code


def test_issued_at_is_the_receipt_event(app: App) -> None:
    issued = datetime(2026, 3, 2, 9, 31, 5, tzinfo=UTC)
    code = _filing(app, receipt=True, issued_at=issued)
    info = lookup_receipt(app, code)
    assert info is not None
    assert info.issued_at == issued and info.received_at == T0
    assert info.to_json()["files"] == [{"name": "form.xml", "size": 3, "sha256": "ab" * 32}]


def test_a_filing_whose_receipt_is_not_issued_yet_has_no_receipt(app: App) -> None:
    code = _filing(app, receipt=False)
    assert lookup_receipt(app, code) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "0" * 20,  # well-formed, unknown
        "0" * 19,
        "0" * 21,
        "G" * 20,
        "' OR 1=1 --",
        "%" * 20,
        "A" * 10_000,
        "http://127.0.0.1:8000/verify/",
    ],
)
def test_malformed_or_unknown_codes_find_nothing(app: App, text: str) -> None:
    _filing(app, receipt=True)
    assert lookup_receipt(app, text) is None


def test_normalize_code() -> None:
    assert normalize_code("abcd ef01-2345 6789 abcd") == "ABCDEF0123456789ABCD"
    assert normalize_code("https://portal/verify/ABCDEF0123456789ABCD?x=1#y") == (
        "ABCDEF0123456789ABCD"
    )
    assert normalize_code("ABCDEF0123456789ABC") is None
    assert normalize_code("ABCDEF0123456789ABCÉ") is None
