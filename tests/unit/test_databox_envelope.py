"""The data-box envelope: its XSD, hardened parsing, the canonical message hash."""

from __future__ import annotations

import base64
import hashlib
import subprocess
from pathlib import Path

import pytest
from lxml import etree

import schemas
from intake.databox import EnvelopeInvalid, Reference, build_envelope, parse_envelope
from intake.databox.envelope import NS, XSD_FILE
from tests.services import require_tool

MAX = 10 * 1024 * 1024
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def envelope(**changes: object) -> bytes:
    args: dict[str, object] = {
        "message_id": "1234567890",
        "sender_box": "abc1234",
        "recipient_box": "xyz9876",
        "subject": "Žádost o vydání rozhodnutí",
        "files": [("zadost.pdf", "application/pdf", "main", PDF)],
        "sender_reference": Reference("ABC/123/2026", "SZ-1"),
        "to_hands": "Ing. Jana Nováková",
        "personal_delivery": True,
        "legal_title": {"law": "500", "year": "2004", "section": "37"},
    }
    args.update(changes)
    return build_envelope(**args)  # type: ignore[arg-type]


def test_fields_are_read_and_files_decoded() -> None:
    env = parse_envelope(envelope(), max_bytes=MAX)
    assert env.message_id == "1234567890"
    assert (env.sender_box, env.recipient_box, env.sender_type) == (
        "abc1234",
        "xyz9876",
        "legal-person",
    )
    assert env.subject == "Žádost o vydání rozhodnutí"
    assert env.sender_reference == Reference("ABC/123/2026", "SZ-1")
    assert env.recipient_reference == Reference()
    assert env.to_hands == "Ing. Jana Nováková" and env.personal_delivery is True
    assert env.legal_title == {"law": "500", "year": "2004", "section": "37"}
    (f,) = env.files
    assert (f.name, f.role, f.declared_media_type, f.content) == (
        "zadost.pdf",
        "main",
        "application/pdf",
        PDF,
    )
    assert env.to_dict()["files"][0]["sha256"] == hashlib.sha256(PDF).hexdigest()


def test_message_hash_is_over_the_canonical_envelope() -> None:
    data = envelope()
    env = parse_envelope(data, max_bytes=MAX)
    assert env.sha256 == hashlib.sha256(env.canonical).hexdigest()
    # the same envelope written differently: no declaration, a comment, other quoting/spacing
    tree = etree.fromstring(data)
    other = etree.tostring(tree, encoding="UTF-8", xml_declaration=False).replace(
        b"<Subject>", b"<!-- sent by the gateway --><Subject  >"
    )
    other = other.replace(b'version="1.0"', b"version='1.0'", 1)
    assert other != data
    assert parse_envelope(other, max_bytes=MAX).sha256 == env.sha256
    changed = envelope(subject="Žádost o vydání rozhodnutí!")
    assert parse_envelope(changed, max_bytes=MAX).sha256 != env.sha256


def test_the_xsd_is_accepted_by_xmllint_too(tmp_path: Path) -> None:
    xmllint = require_tool("xmllint")  # fails, not skips, when CI=true
    path = tmp_path / "m.xml"
    path.write_bytes(envelope())
    out = subprocess.run(
        [xmllint, "--noout", "--schema", str(schemas.schema_path(XSD_FILE)), str(path)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"message_id": "x" * 21}, "MessageId"),
        ({"sender_box": "ABC1234"}, "BoxId"),
        ({"recipient_box": "abc12345"}, "BoxId"),
        ({"sender_type": "alien"}, "Type"),
        ({"subject": "x" * 256}, "Subject"),
        ({"sender_reference": Reference("x" * 51)}, "ReferenceNumber"),
        ({"to_hands": "x" * 51}, "ToHands"),
        ({"files": []}, "Files"),
        ({"files": [("a.pdf", "application/pdf", "boss", PDF)]}, "role"),
        (
            {
                "files": [
                    ("a.pdf", "application/pdf", "main", PDF),
                    ("a.pdf", "application/pdf", "enclosure", PDF),
                ]
            },
            "FileNameKey",
        ),
        (
            {
                "files": [
                    ("a.pdf", "application/pdf", "main", PDF),
                    ("a.p7s", "application/pkcs7-signature", "signature", b"0", "b.pdf"),
                ]
            },
            "SignedFileExists",
        ),
    ],
)
def test_schema_violations_are_refused_with_the_errors(changes: dict, needle: str) -> None:
    with pytest.raises(EnvelopeInvalid) as err:
        parse_envelope(envelope(**changes), max_bytes=MAX)
    assert err.value.code == "envelope_invalid" and err.value.status == 400
    assert err.value.details and any(needle in d["message"] for d in err.value.details)
    assert all(d["line"] for d in err.value.details)


def test_unknown_elements_and_bad_base64_are_refused() -> None:
    data = envelope().replace(b"<Subject>", b"<Extra>x</Extra><Subject>")
    with pytest.raises(EnvelopeInvalid):
        parse_envelope(data, max_bytes=MAX)
    b64 = base64.b64encode(PDF)
    with pytest.raises(EnvelopeInvalid):
        parse_envelope(envelope().replace(b64, b"@@@@" + b64[4:]), max_bytes=MAX)


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa">]><Message/>',
        b"<Message>&a;</Message><!ENTITY x 'y'>",
        "<?xml version='1.0' encoding='UTF-16'?><Message/>".encode("utf-16"),
        b'<?xml version="1.0" encoding="windows-1250"?><Message/>',
        b"not xml at all",
        b"<Message><unclosed></Message>",
        f'<Other xmlns="{NS}"/>'.encode(),
    ],
)
def test_hostile_or_foreign_bodies_are_refused(data: bytes) -> None:
    with pytest.raises(EnvelopeInvalid):
        parse_envelope(data, max_bytes=MAX)


def test_size_limit_is_checked_before_parsing() -> None:
    data = envelope()
    with pytest.raises(EnvelopeInvalid, match="more than the limit"):
        parse_envelope(data, max_bytes=len(data) - 1)


def test_a_file_larger_than_libxml2s_default_text_limit_is_read() -> None:
    big = b"%PDF-1.4\n" + bytes(range(256)) * (11 * 1024 * 1024 // 256)
    env = parse_envelope(
        envelope(files=[("big.pdf", "application/pdf", "main", big)]), max_bytes=32 << 20
    )
    assert env.files[0].content == big
