"""XAdES enveloped in an XML form (placeholder until the verifier lands: honest INDETERMINATE)."""

from __future__ import annotations

from datetime import datetime

from . import _common
from .report import SignatureReport
from .trust import TrustContext

__all__ = ["looks_signed_xml", "verify_xml"]

DS_NS = b"http://www.w3.org/2000/09/xmldsig#"


def looks_signed_xml(data: bytes) -> bool:
    head = data.lstrip()[:1]
    return head == b"<" and DS_NS in data and b"Signature" in data


async def verify_xml(
    data: bytes, *, trust: TrustContext, at: datetime, explicit_time: bool
) -> list[SignatureReport]:
    return [_common.not_verifiable("XAdES", "XAdES verification not available.")]
