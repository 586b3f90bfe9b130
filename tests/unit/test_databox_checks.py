"""Checks of a trusted envelope: main file, limits, formats by content, ZIP/ASiC archives."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from intake.databox import (
    ArchiveLimits,
    MessageLimits,
    build_envelope,
    check_message,
    parse_envelope,
)

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

PDF = (CORPUS / "minimal.pdf").read_bytes()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = (CORPUS / "pe-named-pdf.bin").read_bytes()
LIMITS = MessageLimits()


def check(files: list, limits: MessageLimits = LIMITS):  # type: ignore[no-untyped-def]
    env = parse_envelope(
        build_envelope(
            message_id="m1", sender_box="abc1234", recipient_box="xyz9876", subject="s", files=files
        ),
        max_bytes=64 << 20,
    )
    return check_message(env, limits)


def codes(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.code for r in result.reasons]


def zip_of(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def encrypted(data: bytes) -> bytes:
    """Set the 'encrypted' flag of every entry (local and central headers), as an encrypting
    archiver would; the payload stays readable bytes, which is enough to be refused."""
    out = bytearray(data)
    for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = out.find(sig)
        while i != -1:
            out[i + flag_at] |= 0x01
            i = out.find(sig, i + 4)
    return bytes(out)


def test_a_pdf_with_enclosures_passes_with_roles_for_the_pipeline() -> None:
    result = check(
        [
            ("zadost.pdf", "application/pdf", "main", PDF),
            ("foto.png", "image/png", "enclosure", PNG),
            ("poznamka.txt", "text/plain", "meta", "Dobrý den".encode()),
            ("dopis.rtf", "application/rtf", "enclosure", b"{\\rtf1 hello}"),
            ("stranka.html", "text/html", "enclosure", b"<!DOCTYPE html><html></html>"),
        ]
    )
    assert result.ok, result.reasons
    assert [(f.name, f.role, f.media_type) for f in result.files] == [
        ("zadost.pdf", "form", "application/pdf"),
        ("foto.png", "attachment", "image/png"),
        ("poznamka.txt", "attachment", "text/plain"),
        ("dopis.rtf", "attachment", "application/rtf"),
        ("stranka.html", "attachment", "text/html"),
    ]


def test_missing_main_file() -> None:
    assert codes(check([("a.pdf", "application/pdf", "enclosure", PDF)])) == ["main_missing"]


def test_second_main_file() -> None:
    result = check(
        [("a.pdf", "application/pdf", "main", PDF), ("b.pdf", "application/pdf", "main", PDF)]
    )
    assert codes(result) == ["main_duplicate"]
    assert "'a.pdf', 'b.pdf'" in result.reasons[0].message


def test_oversize_message() -> None:
    limits = MessageLimits(max_total_bytes=len(PDF) * 2 - 1)
    result = check(
        [("a.pdf", "application/pdf", "main", PDF), ("b.pdf", "application/pdf", "enclosure", PDF)],
        limits,
    )
    assert codes(result) == ["too_large"] and not result.files


def test_too_many_files() -> None:
    files = [("a.pdf", "application/pdf", "main", PDF)]
    files += [(f"p{i}.png", "image/png", "enclosure", PNG) for i in range(50)]
    assert codes(check(files)) == ["too_many_files"]
    assert check(files[:50]).ok


def test_format_is_judged_by_content_not_by_name_or_declared_type() -> None:
    result = check(
        [
            ("a.pdf", "application/pdf", "main", PDF),
            ("smlouva.pdf", "application/pdf", "enclosure", EXE),
        ]
    )
    assert codes(result) == ["format_not_allowed"]
    assert result.reasons[0].file == "smlouva.pdf"
    assert "Windows executable" in result.reasons[0].message
    # a PNG declared as a PDF is carried, as what it is
    ok = check([("a.pdf", "image/jpeg", "main", PNG)])
    assert ok.ok and ok.files[0].media_type == "image/png"


def test_signature_file_must_name_what_it_signs() -> None:
    p7s = b"\x30\x80\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02" + b"\x00" * 20
    result = check(
        [
            ("a.pdf", "application/pdf", "main", PDF),
            ("a.p7s", "application/pkcs7-signature", "signature", p7s),
        ]
    )
    assert codes(result) == ["signature_target_missing"]
    named = check(
        [
            ("a.pdf", "application/pdf", "main", PDF),
            ("a.p7s", "application/pkcs7-signature", "signature", p7s, "a.pdf"),
        ]
    )
    assert named.ok and named.files[1].role == "signature" and named.files[1].signs == "a.pdf"


def test_zip_is_unpacked_and_the_original_kept() -> None:
    archive = zip_of({"dir/priloha.pdf": PDF, "foto.png": PNG})
    result = check(
        [
            ("a.pdf", "application/pdf", "main", PDF),
            ("prilohy.zip", "application/zip", "enclosure", archive),
        ]
    )
    assert result.ok, result.reasons
    assert [(f.name, f.media_type, f.from_archive) for f in result.files] == [
        ("a.pdf", "application/pdf", None),
        ("prilohy.zip", "application/zip", None),
        ("prilohy.zip/dir/priloha.pdf", "application/pdf", "prilohy.zip"),
        ("prilohy.zip/foto.png", "image/png", "prilohy.zip"),
    ]
    assert result.files[1].content == archive


def test_asic_s_container_is_recognised_and_unpacked() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(
            zipfile.ZipInfo("mimetype"), b"application/vnd.etsi.asic-s+zip", zipfile.ZIP_STORED
        )
        zf.writestr("smlouva.pdf", PDF)
        zf.writestr(
            "META-INF/signature.p7s", b"\x30\x80\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02"
        )
    result = check([("smlouva.asics", "application/vnd.etsi.asic-s+zip", "main", buf.getvalue())])
    assert result.ok, result.reasons
    assert result.files[0].media_type == "application/vnd.etsi.asic-s+zip"
    assert {f.name: f.role for f in result.files[1:]} == {
        "smlouva.asics/mimetype": "attachment",
        "smlouva.asics/smlouva.pdf": "attachment",
        "smlouva.asics/META-INF/signature.p7s": "signature",
    }


def archive_codes(archive: bytes, limits: ArchiveLimits = ArchiveLimits()) -> list[str]:
    return codes(
        check(
            [
                ("a.pdf", "application/pdf", "main", PDF),
                ("x.zip", "application/zip", "enclosure", archive),
            ],
            MessageLimits(archives=limits),
        )
    )


def test_zip_bomb_by_total_size() -> None:
    archive = zip_of({f"{i}.txt": b"a" * 600_000 for i in range(4)})
    limits = ArchiveLimits(max_uncompressed_bytes=2_000_000, max_ratio=100_000)
    assert archive_codes(archive, limits) == ["archive_bomb"]
    assert archive_codes(archive, ArchiveLimits(max_ratio=100_000)) == []


def test_zip_bomb_by_ratio_whatever_the_headers_say() -> None:
    archive = zip_of({"zeros.txt": b"0" * 5_000_000})
    assert len(archive) < 20_000
    assert archive_codes(archive) == ["archive_bomb"]


def test_nested_archive() -> None:
    inner = zip_of({"a.pdf": PDF})
    assert archive_codes(zip_of({"inner.zip": inner, "b.pdf": PDF})) == ["archive_nested"]


def test_encrypted_entry() -> None:
    archive = encrypted(zip_of({"tajne.pdf": PDF}, compression=zipfile.ZIP_STORED))
    assert archive_codes(archive) == ["archive_encrypted"]


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "/etc/passwd", "a/../../b.txt", "c:/x.txt", "a\\..\\b.txt"]
)
def test_path_traversal(name: str) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo(name), b"hello")
    assert archive_codes(buf.getvalue()) == ["archive_path_traversal"]


def test_too_many_entries() -> None:
    archive = zip_of({f"{i}.txt": b"x" for i in range(12)})
    assert archive_codes(archive, ArchiveLimits(max_entries=11)) == ["archive_too_many_entries"]
    assert archive_codes(archive, ArchiveLimits(max_entries=12)) == []


def test_disallowed_entry_and_broken_archive() -> None:
    assert archive_codes(zip_of({"run.exe": EXE})) == ["format_not_allowed"]
    assert archive_codes(b"PK\x03\x04" + b"\x00" * 40) == ["archive_invalid"]
