"""The delivery receipt (doručenka): PDF/A-3b with the delivery info XML, valid against its XSD;
and the data-box tables of the migration agree with the models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from lxml import etree

from filing_registry import Base, make_engine, migrate
from intake.databox import Reference, build_envelope, parse_envelope
from intake.databox import models as databox_models
from receipts import Authority, DeliveryData, DeliveryEvent, render_delivery_receipt, xml_errors
from tests.dbs import sqlite_url
from tests.unit.test_seal_support import attachments, pdfa_problems, pdftotext

AT = datetime(2026, 3, 2, 9, 15, 30, tzinfo=UTC)
NS = {"d": "urn:cz:podatelna:documents:1"}


def sample() -> DeliveryData:
    env = parse_envelope(
        build_envelope(
            message_id="987654321",
            sender_box="abc1234",
            recipient_box="xyz9876",
            subject="Žádost o stavební povolení – Čeňkova 12",
            sender_type="natural-person",
            sender_name="Jiří Šťastný",
            sender_reference=Reference("ČJ-1/2026", None),
            files=[
                ("žádost.pdf", "application/pdf", "main", b"%PDF-1.4 x"),
                ("příloha.png", "image/png", "enclosure", b"\x89PNG\r\n\x1a\n"),
            ],
        ),
        max_bytes=1 << 20,
    )
    d = env.to_dict()
    d["recipient_reference"]["reference_number"] = "MMO/00042/2026"
    return DeliveryData(
        id="0" * 32,
        authority=Authority("Magistrát města Ostravy", "Prokešovo náměstí 8", "MMO"),
        wire_form="xml",
        envelope=d,
        message_sha256=env.sha256,
        timestamp_token=b"\x30\x03\x02\x01\x00",
        timestamp_time=AT,
        received_at=AT,
        delivered_at=AT + timedelta(seconds=2),
        reference="MMO/00042/2026",
        events=(
            DeliveryEvent(AT, "received", "xml"),
            DeliveryEvent(AT, "timestamped"),
            DeliveryEvent(AT + timedelta(seconds=2), "delivered", "registered as MMO/00042/2026"),
        ),
    )


def test_delivery_info_xml_is_valid_and_says_what_happened() -> None:
    d = sample()
    xml = d.to_xml()
    assert xml_errors("delivery-info", xml) == []
    doc = etree.fromstring(xml)
    assert doc.findtext("d:Envelope/d:Sender/d:Name", namespaces=NS) == "Jiří Šťastný"
    assert doc.findtext("d:MessageHash", namespaces=NS) == d.message_sha256
    assert doc.findtext("d:DeliveredAt", namespaces=NS) == "2026-03-02T10:15:32+01:00"
    roles = [f.get("role") for f in doc.iterfind("d:Envelope/d:Files/d:File", NS)]
    assert roles == ["main", "enclosure"]


def test_delivery_info_xml_against_the_xsd_refuses_a_broken_one() -> None:
    xml = sample().to_xml().replace(b"<State>delivered</State>", b"<State>lost</State>")
    assert xml_errors("delivery-info", xml)


def test_delivery_receipt_is_pdfa_with_the_xml_attached(tmp_path: Path) -> None:
    d = sample()
    pdf = render_delivery_receipt(d)
    assert pdfa_problems(pdf) == []
    assert attachments(pdf)["doruceni.xml"] == ("/Data", d.to_xml())
    text = pdftotext(pdf, tmp_path)
    for needle in ("Doručenka datové zprávy", "MMO/00042/2026", "Jiří Šťastný", "Čeňkova"):
        assert needle in text


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(sqlite_url(tmp_path))
    migrate(engine)
    yield engine
    engine.dispose()


def test_migration_0002_matches_the_models(engine) -> None:  # type: ignore[no-untyped-def]
    assert databox_models.DataboxMessage.__tablename__ in Base.metadata.tables
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    ours = [d for d in diff if "databox" in repr(d)]
    assert ours == []


def test_event_notes_read_in_czech_on_the_receipt() -> None:
    from receipts.delivery import note_cs

    assert note_cs("cms from box abc1234, message 77") == (
        "podepsaný kontejner CMS ze schránky abc1234, zpráva 77"
    )
    assert (
        note_cs("xml from box abc1234, message m-1") == "obálka XML ze schránky abc1234, zpráva m-1"
    )
    assert note_cs("RFC 3161 token over the message hash") == (
        "časové razítko RFC 3161 nad hashem zprávy"
    )
    assert note_cs("registered as MMO/00001/2026") == (
        "zaevidováno pod číslem jednacím MMO/00001/2026"
    )
    assert note_cs("something else") == "something else"
