"""Media type detection from content, and the attachment check."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
import zipfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from validators import (
    AttachmentCheck,
    AttachmentPolicy,
    check_attachment,
    detect_media_type,
)

OOXML = "application/vnd.openxmlformats-officedocument."


def _zip(entries: list[tuple[str, bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, method in entries:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = method
            archive.writestr(info, data)
    return buffer.getvalue()


def _ooxml(main: str, folder: str) -> bytes:
    types = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'content-types"><Override PartName="/{folder}/x.xml" ContentType="{OOXML}{main}"/>'
        "</Types>"
    ).encode()
    return _zip(
        [
            ("[Content_Types].xml", types, zipfile.ZIP_DEFLATED),
            ("_rels/.rels", b"<Relationships/>", zipfile.ZIP_DEFLATED),
            (f"{folder}/x.xml", b"<x/>" * 100, zipfile.ZIP_DEFLATED),
        ]
    )


def _cms_signed_data() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Jiří Nováček")])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data("Žádost".encode())
        .add_signer(cert, key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature])
    )


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"GIF87a\x01\x00\x01\x00", "image/gif"),
        (b"II*\x00\x08\x00\x00\x00", "image/tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "image/tiff"),
        (b'<?xml version="1.0"?><a/>', "application/xml"),
        (b"\xef\xbb\xbf<?xml version='1.0'?><a/>", "application/xml"),
        (b"  \n<podani xmlns='urn:x'/>", "application/xml"),
        ("<?xml version='1.0' encoding='UTF-16'?><a/>".encode("utf-16"), "application/xml"),
        (b"<!DOCTYPE html><html></html>", "text/html"),
        (b"<HTML><body>x</body></HTML>", "text/html"),
        ("Vážený úřade,\r\nžádám…\tDěkuji.\n".encode(), "text/plain"),
        ("Žádost".encode("utf-16"), "text/plain"),
        (b"MZ\x90\x00\x03", "application/x-msdownload"),
        (b"\x7fELF\x02\x01\x01", "application/x-executable"),
        (b"\xcf\xfa\xed\xfe\x07\x00", "application/x-mach-binary"),
        (b"#!/usr/bin/env python\n", "text/x-shellscript"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", "application/x-ole-storage"),
        (b"{\\rtf1\\ansi", "application/rtf"),
        (b"\x1f\x8b\x08\x00", "application/gzip"),
        (b"PK\x05\x06" + b"\x00" * 18, "application/zip"),
        (b"", "application/x-empty"),
        (b"\x00\x01\x02\x03", "application/octet-stream"),
        ("Žádost".encode("cp1250"), "application/octet-stream"),
        (b"text with a bell \x07", "application/octet-stream"),
        (b"x%PDF-1.7", "text/plain"),
    ],
)
def test_detect_by_magic(head: bytes, expected: str) -> None:
    assert detect_media_type(head) == expected


def test_utf8_text_cut_inside_a_character_is_still_text() -> None:
    text = ("Příliš žluťoučký kůň " * 10).encode()
    for cut in range(len(text) - 3, len(text)):
        assert detect_media_type(text[:cut]) == "text/plain"


def test_odf_by_its_mimetype_entry() -> None:
    for kind in ("text", "spreadsheet", "presentation"):
        media = f"application/vnd.oasis.opendocument.{kind}"
        data = _zip(
            [
                ("mimetype", media.encode(), zipfile.ZIP_STORED),
                ("content.xml", b"<office:document-content/>", zipfile.ZIP_DEFLATED),
            ]
        )
        assert detect_media_type(data) == media


def test_odf_mimetype_must_be_first_and_stored() -> None:
    media = b"application/vnd.oasis.opendocument.text"
    compressed = _zip([("mimetype", media, zipfile.ZIP_DEFLATED)])
    assert detect_media_type(compressed) == "application/zip"
    second = _zip([("a.txt", b"x", zipfile.ZIP_STORED), ("mimetype", media, zipfile.ZIP_STORED)])
    assert detect_media_type(second) == "application/zip"


@pytest.mark.parametrize(
    ("main", "folder", "expected"),
    [
        ("wordprocessingml.document.main+xml", "word", "wordprocessingml.document"),
        ("spreadsheetml.sheet.main+xml", "xl", "spreadsheetml.sheet"),
        ("presentationml.presentation.main+xml", "ppt", "presentationml.presentation"),
    ],
)
def test_ooxml_by_content_types(main: str, folder: str, expected: str) -> None:
    assert detect_media_type(_ooxml(main, folder)) == OOXML + expected


def test_ooxml_by_folder_when_content_types_do_not_say() -> None:
    data = _zip(
        [
            ("[Content_Types].xml", b"<Types/>", zipfile.ZIP_DEFLATED),
            ("xl/workbook.xml", b"<x/>", zipfile.ZIP_DEFLATED),
        ]
    )
    assert detect_media_type(data) == OOXML + "spreadsheetml.sheet"
    plain = _zip([("word/document.xml", b"<x/>", zipfile.ZIP_DEFLATED)])
    assert detect_media_type(plain) == "application/zip"


def test_cms_signed_data_is_pkcs7_signature() -> None:
    assert detect_media_type(_cms_signed_data()) == "application/pkcs7-signature"
    # a ContentInfo of another PKCS#7 type (enveloped data) is a pkcs7-mime message
    enveloped = b"\x30\x80\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x03\xa0\x80"
    assert detect_media_type(enveloped) == "application/pkcs7-mime"
    assert detect_media_type(b"\x30\x82\x01\x00\x02\x01\x00") == "application/octet-stream"


def test_attachment_policy_size_and_types() -> None:
    pdf = b"%PDF-1.7\n"
    small = AttachmentPolicy(frozenset({"application/pdf"}), max_file_bytes=1000)
    ok = check_attachment("Smlouva o dílo.pdf", pdf, 1000, small)
    assert ok == AttachmentCheck(True, "Smlouva o dílo.pdf", "application/pdf", 1000, ())
    big = check_attachment("smlouva.pdf", pdf, 1001, small)
    assert [i.code for i in big.issues] == ["file_too_large"]
    assert "1,001 bytes" in big.issues[0].message
    png = check_attachment("foto.png", b"\x89PNG\r\n\x1a\n", 10, small)
    assert [i.code for i in png.issues] == ["media_type_not_allowed"]
    assert "a PNG image (image/png)" in png.issues[0].message
    assert AttachmentCheck.from_dict(png.to_dict()) == png


def test_attachment_reports_every_problem_at_once() -> None:
    check = check_attachment("../x.exe", b"MZ\x90\x00", 10**9, AttachmentPolicy())
    assert [i.code for i in check.issues] == [
        "unsafe_filename",
        "file_too_large",
        "dangerous_extension",
        "media_type_not_allowed",
    ]
    assert not check.ok


def test_attachment_name_is_normalised_to_nfc() -> None:
    decomposed = "z\u030cádost.pdf"
    check = check_attachment(decomposed, b"%PDF-1.4", 9, AttachmentPolicy())
    assert check.ok and check.name == "žádost.pdf"


def test_importing_validators_stays_out_of_the_application() -> None:
    code = (
        "import sys, validators, schemas; "
        "bad = [m for m in ('fastapi', 'dramatiq', 'minio', 'podatelna', 'sqlalchemy') "
        "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
