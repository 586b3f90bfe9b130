"""Media type detection from content (magic bytes), never from the file name.

Threat model: the sender controls both the name and the bytes of an attachment and may lie in
the name (an executable called ``smlouva.pdf``). We look only at the first bytes
(:data:`HEAD_BYTES` is what callers should pass) and return one media type. Detection is
deliberately small and conservative: a type is returned only when its signature is at offset
0 (PDF included: junk before ``%PDF-`` is not accepted), executables are recognised before
anything else so that polyglots are named for what runs, and whatever is not recognised is
``application/octet-stream``.

Not guaranteed: a detected type says the file *starts* like that format, not that it is a
well-formed or harmless file of that format (a PDF may still carry JavaScript, a ZIP-based
office file may still be a ZIP bomb); PDF/A conformance is not detected (it needs the whole
file); ZIP-based formats are recognised from their first local headers only, so an OOXML file
whose ``[Content_Types].xml`` comes after the head is ``application/zip``. Plain text means
UTF-8 (or UTF-16 with a BOM) without control characters; legacy 8-bit text is
``application/octet-stream``.
"""

from __future__ import annotations

import re
import struct
import zlib

#: how many leading bytes callers should pass to :func:`detect_media_type`
HEAD_BYTES = 64 * 1024

OCTET_STREAM = "application/octet-stream"
PDF = "application/pdf"
XML = "application/xml"
ZIP = "application/zip"
TEXT = "text/plain"
PE_EXECUTABLE = "application/x-msdownload"
ELF_EXECUTABLE = "application/x-executable"
MACH_O_EXECUTABLE = "application/x-mach-binary"
SHELL_SCRIPT = "text/x-shellscript"
PKCS7_SIGNATURE = "application/pkcs7-signature"
PKCS7_MIME = "application/pkcs7-mime"
EMPTY = "application/x-empty"

#: the media types that are programs (for messages and for the attachment check)
EXECUTABLE_TYPES = frozenset({PE_EXECUTABLE, ELF_EXECUTABLE, MACH_O_EXECUTABLE, SHELL_SCRIPT})

#: human names in Czech-office English, for messages
DESCRIPTIONS: dict[str, str] = {
    PDF: "a PDF document",
    XML: "an XML document",
    ZIP: "a ZIP archive",
    TEXT: "plain text",
    PE_EXECUTABLE: "a Windows executable program",
    ELF_EXECUTABLE: "a Linux/Unix executable program (ELF)",
    MACH_O_EXECUTABLE: "a macOS executable program",
    SHELL_SCRIPT: "a script (#!)",
    PKCS7_SIGNATURE: "a CMS/PKCS#7 signed message",
    PKCS7_MIME: "a CMS/PKCS#7 message",
    EMPTY: "an empty file",
    OCTET_STREAM: "data of an unrecognised format",
    "image/jpeg": "a JPEG image",
    "image/png": "a PNG image",
    "image/gif": "a GIF image",
    "image/tiff": "a TIFF image",
    "text/html": "an HTML page",
    "application/rtf": "an RTF document",
    "application/x-ole-storage": "a legacy Microsoft Office (OLE) file",
    "application/x-rar-compressed": "a RAR archive",
    "application/x-7z-compressed": "a 7-Zip archive",
    "application/gzip": "a gzip archive",
}

_ODF_PREFIX = b"application/vnd.oasis.opendocument."
_OOXML = "application/vnd.openxmlformats-officedocument."
_OOXML_MAIN = (
    (b"wordprocessingml.document.main+xml", _OOXML + "wordprocessingml.document"),
    (b"spreadsheetml.sheet.main+xml", _OOXML + "spreadsheetml.sheet"),
    (b"presentationml.presentation.main+xml", _OOXML + "presentationml.presentation"),
)
_OOXML_DIRS = (
    (b"word/", _OOXML + "wordprocessingml.document"),
    (b"xl/", _OOXML + "spreadsheetml.sheet"),
    (b"ppt/", _OOXML + "presentationml.presentation"),
)
_SIMPLE = (
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"II+\x00", "image/tiff"),
    (b"MM\x00+", "image/tiff"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (b"{\\rtf", "application/rtf"),
    (b"Rar!\x1a\x07", "application/x-rar-compressed"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"\x1f\x8b", "application/gzip"),
)
_MACH_O = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")
# OID 1.2.840.113549.1.7.x (PKCS#7 content types), DER-encoded with its tag and length
_PKCS7_OID = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_XML_START = re.compile(r"\A\ufeff?\s*<(?:\?xml[\s?]|!--|[A-Za-z_])")
_HTML_START = re.compile(r"\A\ufeff?\s*<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.I)


def _zip_type(head: bytes) -> str:
    """ODF by its leading ``mimetype`` entry, OOXML by ``[Content_Types].xml``, else ZIP."""
    offset = 0
    seen_content_types = False
    for _ in range(64):
        if head[offset : offset + 4] != b"PK\x03\x04" or len(head) < offset + 30:
            break
        (method, compressed, name_len, extra_len) = struct.unpack_from("<8xH8xI4xHH", head, offset)
        name = head[offset + 30 : offset + 30 + name_len]
        body_start = offset + 30 + name_len + extra_len
        body = head[body_start : body_start + compressed]
        if offset == 0 and name == b"mimetype" and method == 0:
            if body.startswith(_ODF_PREFIX) and body.isascii():
                return body.decode("ascii").strip()
        if name == b"[Content_Types].xml":
            seen_content_types = True
            content = body
            if method == 8:
                try:
                    content = zlib.decompressobj(-15).decompress(body, 256 * 1024)
                except zlib.error:
                    content = b""
            for marker, media in _OOXML_MAIN:
                if marker in content:
                    return media
        for prefix, media in _OOXML_DIRS:
            if seen_content_types and name.startswith(prefix):
                return media
        if compressed == 0 and method != 0:
            break  # sizes are in a data descriptor after the body: cannot walk further
        offset = body_start + compressed
    return ZIP


def _pkcs7_type(head: bytes) -> str | None:
    """CMS/PKCS#7 ContentInfo in DER/BER: SEQUENCE, then the pkcs7 content-type OID."""
    if len(head) < 2 or head[0] != 0x30:
        return None
    length = head[1]
    if length < 0x80:
        start = 2
    elif length == 0x80:
        start = 2  # BER indefinite length
    elif length <= 0x84:
        start = 2 + (length - 0x80)
    else:
        return None
    if head[start : start + len(_PKCS7_OID)] != _PKCS7_OID:
        return None
    kind = head[start + len(_PKCS7_OID) : start + len(_PKCS7_OID) + 1]
    return PKCS7_SIGNATURE if kind == b"\x02" else PKCS7_MIME


def _text(head: bytes) -> str | None:
    """The head as text if it is UTF-8 (or BOM-marked UTF-16) without control characters."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return head[: len(head) - len(head) % 2].decode("utf-16")
        except UnicodeDecodeError:
            return None
    # A multi-byte character may be cut at the end of the head: allow up to 3 bytes of it.
    for cut in range(4):
        try:
            return head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:
                return None
    return None


def detect_media_type(head: bytes) -> str:
    """The media type of a file judged by its first bytes (pass :data:`HEAD_BYTES` of them)."""
    if not head:
        return EMPTY
    if head.startswith(b"MZ"):
        return PE_EXECUTABLE
    if head.startswith(b"\x7fELF"):
        return ELF_EXECUTABLE
    if head.startswith(_MACH_O):
        return MACH_O_EXECUTABLE
    if head.startswith(b"#!"):
        return SHELL_SCRIPT
    for magic, media in _SIMPLE:
        if head.startswith(magic):
            return media
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(head)
    if head.startswith((b"PK\x05\x06", b"PK\x07\x08")):
        return ZIP
    pkcs7 = _pkcs7_type(head)
    if pkcs7 is not None:
        return pkcs7
    text = _text(head)
    if text is None or _CONTROL.search(text):
        return OCTET_STREAM
    if _HTML_START.match(text):
        return "text/html"
    if _XML_START.match(text):
        return XML
    return TEXT


def describe_media_type(media_type: str) -> str:
    """A short English description of a media type, for messages."""
    return DESCRIPTIONS.get(media_type, media_type)
