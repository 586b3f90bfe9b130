"""A very small DER writer for the hot paths of sealing and timestamping.

asn1crypto builds a CMS object from Python dicts by re-encoding every nested value (certificates
included) each time: ~10 ms per timestamp token. The structures we emit are fixed, so we
concatenate DER from pieces encoded once (certificates, algorithm identifiers, names) and the
few values that change (digests, times, serial numbers, signatures). Only our own outputs go
through here; nothing parses untrusted input.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

SEQUENCE = 0x30
SET = 0x31
INTEGER = 0x02
OCTET_STRING = 0x04
OID = 0x06
GENERALIZED_TIME = 0x18


def tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def seq(*parts: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(parts))


def set_of(*parts: bytes) -> bytes:
    """A DER SET OF: the elements sorted by their encodings."""
    return tlv(SET, b"".join(sorted(parts)))


def integer(value: int) -> bytes:
    if value < 0:
        raise ValueError("negative INTEGER not needed here")
    return tlv(INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def octets(value: bytes) -> bytes:
    return tlv(OCTET_STRING, value)


@cache
def oid(dotted: str) -> bytes:
    """The DER of an OBJECT IDENTIFIER (cached: the writers use a few fixed ones)."""
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return tlv(OID, bytes(body))


def generalized_time(dt: datetime) -> bytes:
    return tlv(GENERALIZED_TIME, dt.astimezone(UTC).strftime("%Y%m%d%H%M%SZ").encode("ascii"))


def explicit(tag_number: int, content: bytes) -> bytes:
    """``[n] EXPLICIT`` around an encoded value (context-specific, constructed)."""
    return tlv(0xA0 | tag_number, content)


def implicit_constructed(tag_number: int, encoded: bytes) -> bytes:
    """Retag an encoded constructed value (SET/SEQUENCE) as ``[n] IMPLICIT``."""
    return bytes((0xA0 | tag_number,)) + encoded[1:]


def attribute(type_oid: str, *values: bytes) -> bytes:
    return seq(oid(type_oid), set_of(*values))


# object identifiers used by the writers
ID_DATA = "1.2.840.113549.1.7.1"
ID_SIGNED_DATA = "1.2.840.113549.1.7.2"
ID_CT_TSTINFO = "1.2.840.113549.1.9.16.1.4"
ID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
ID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
ID_SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"
ID_CMS_ALGORITHM_PROTECTION = "1.2.840.113549.1.9.52"
ID_SIGNATURE_TIMESTAMP = "1.2.840.113549.1.9.16.2.14"
SHA256 = "2.16.840.1.101.3.4.2.1"
ECDSA_SHA256 = "1.2.840.10045.4.3.2"
RSA_SHA256 = "1.2.840.113549.1.1.11"
NULL = b"\x05\x00"


def sha256_algorithm_id() -> bytes:
    return seq(oid(SHA256))


def signature_algorithm_id(is_ec: bool) -> bytes:
    return seq(oid(ECDSA_SHA256)) if is_ec else seq(oid(RSA_SHA256), NULL)
