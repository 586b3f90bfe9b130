"""The two wire forms of a message: the plain envelope, or the envelope inside a CMS SignedData
container (the shape of an ISDS ``.zfo``).

A container is verified with :mod:`signing`'s CAdES code against the configured trusted lists
*before* its content is parsed as an envelope: a broken or untrusted signature refuses the whole
message. The container is accepted when at least one signature is ``TOTAL_PASSED`` (any
qualification: a sending system's seal need not be qualified, but it must chain to a trust
anchor of the lists and not be revoked). Its report is kept with the message.

Threat model: the body is untrusted DER; it is parsed by asn1crypto through
:func:`signing.cades.parse_cms`. Not guaranteed: that the signer is the sender box's operator
(the token says who may send for which box; the container says who sealed the bytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from intake.databox.errors import ContainerInvalid, ContainerSignatureInvalid, ContainerUntrusted
from signing import TrustContext, verify_file
from signing.cades import encapsulated_content, parse_cms

WireForm = Literal["xml", "cms"]
TOTAL_PASSED = "TOTAL_PASSED"
TOTAL_FAILED = "TOTAL_FAILED"


@dataclass(frozen=True)
class Unwrapped:
    """The envelope's bytes and how they came: plain, or out of a verified container."""

    wire_form: WireForm
    envelope: bytes
    #: the container's verification report (``signing`` JSON shape), ``None`` when plain
    report: dict[str, Any] | None = None


def wire_form_of(body: bytes) -> WireForm:
    """``cms`` when the body is DER CMS SignedData, else ``xml`` (the parser judges the rest)."""
    stripped = body.lstrip()
    if stripped.startswith(b"<") or stripped.startswith(b"\xef\xbb\xbf"):
        return "xml"
    return "cms" if body[:1] == b"\x30" else "xml"


def unwrap(body: bytes, *, trust: TrustContext, at: datetime) -> Unwrapped:
    """The envelope bytes of ``body``; a container's signature is verified first."""
    if wire_form_of(body) == "xml":
        return Unwrapped("xml", body)
    sd = parse_cms(body)
    if sd is None:
        raise ContainerInvalid(
            "The body is neither an XML envelope nor a CMS SignedData container."
        )
    content = encapsulated_content(sd)
    if not content:
        raise ContainerInvalid(
            "The CMS container carries no content (a detached signature); the envelope must be "
            "inside the container."
        )
    report = verify_file(body, name="message.zfo", trust=trust, at=at)
    verdict = report.to_dict()
    sigs = verdict.get("signatures") or []
    if any(s.get("indication") == TOTAL_PASSED for s in sigs):
        return Unwrapped("cms", content, verdict)
    reasons = [r for s in sigs for r in (s.get("reasons") or [])]
    why = " ".join(dict.fromkeys(reasons)) or "No signature was found."
    details = [
        {
            "code": "container_signature",
            "indication": s.get("indication"),
            "subindication": s.get("subindication"),
            "message": " ".join(s.get("reasons") or []),
        }
        for s in sigs
    ]
    if sigs and all(s.get("indication") == TOTAL_FAILED for s in sigs):
        raise ContainerSignatureInvalid(
            f"The container's signature does not hold, so nothing in it is trusted: {why}",
            details=details,
        )
    raise ContainerUntrusted(
        "The container's signature cannot be traced to a trust anchor of the configured "
        f"trusted lists, so nothing in it is trusted: {why}",
        details=details,
    )
