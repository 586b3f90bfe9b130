"""CAdES / CMS: detached (``.p7s``) and enveloping (``.p7m``, ISDS ``.zfo``) signatures.

Threat model: the CMS blob is untrusted DER, parsed by asn1crypto; the detached content is
hashed as given. Limits: one signer per SignerInfo is verified (each SignerInfo is reported);
CAdES-LT/LTA archive attributes are not evaluated (B-B and B-T are).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from asn1crypto import cms
from pyhanko.sign.general import extract_certificate_info
from pyhanko.sign.validation import generic_cms
from pyhanko.sign.validation.ades import (
    AdESBasicValidationResult,
    ades_basic_validation,
    ades_with_time_validation,
)

from . import _common
from ._spec import signature_spec
from .report import SignatureReport
from .trust import TrustContext

__all__ = ["is_cms", "parse_cms", "verify_cms"]


def parse_cms(data: bytes) -> cms.SignedData | None:
    """The SignedData of a CMS blob (DER, or PEM/base64 armoured), or ``None``."""
    try:
        ci = cms.ContentInfo.load(data, strict=True)
        if ci["content_type"].native != "signed_data":
            return None
        sd = ci["content"]
        sd["signer_infos"].native  # noqa: B018 - force a parse of what we will use
        return sd
    except (ValueError, TypeError, KeyError):
        return None


def is_cms(data: bytes) -> bool:
    return data[:1] == b"\x30" and parse_cms(data) is not None


def encapsulated_content(sd: cms.SignedData) -> bytes | None:
    content = sd["encap_content_info"]["content"]
    if content.native is None:
        return None
    return bytes(content.native if isinstance(content.native, bytes) else content.contents)


def _has_signature_ts(sd: cms.SignedData) -> bool:
    signer_info = generic_cms.extract_signer_info(sd)
    return next(generic_cms.extract_tst_data_iter(signer_info, signed=False), None) is not None


async def verify_cms(
    data: bytes,
    *,
    detached_content: bytes | None,
    trust: TrustContext,
    at: datetime,
    explicit_time: bool,
) -> list[SignatureReport]:
    sd = parse_cms(data)
    if sd is None:
        return [_common.not_verifiable("CAdES", "The file is not a CMS signed-data structure.")]
    try:
        cert = extract_certificate_info(sd).signer_cert
    except Exception:  # noqa: BLE001 - malformed signer identification
        cert = None
    enveloped = encapsulated_content(sd)
    raw_digest = None
    if enveloped is None:
        if detached_content is None:
            return [
                _common.not_verifiable(
                    "CAdES",
                    "The signature is detached and the signed file was not found beside it.",
                    cert,
                )
            ]
        algo = generic_cms.extract_signer_info(sd)["digest_algorithm"]["algorithm"].native
        raw_digest = hashlib.new(algo, detached_content).digest()
    spec = signature_spec(trust)
    timing = _common.timing(at, explicit_time)
    timestamped = _has_signature_ts(sd)
    res: AdESBasicValidationResult
    try:
        if timestamped:
            res = await ades_with_time_validation(
                sd, spec, timing_info=timing, raw_digest=raw_digest
            )
            best = res.best_signature_time  # type: ignore[attr-defined]
        else:
            res = await ades_basic_validation(sd, spec, timing_info=timing, raw_digest=raw_digest)
            best = at
    except Exception as exc:  # noqa: BLE001 - malformed input must give a report, not a crash
        return [_common.not_verifiable("CAdES", f"The signature cannot be processed: {exc}.", cert)]
    return [
        _common.build(
            fmt="CAdES",
            level="B-T" if timestamped else "B-B",
            sub=res.ades_subindic,
            status=res.api_status,
            failure_msg=res.failure_msg,
            best_time=best,
            timestamped=timestamped,
            cert=cert,
        )
    ]
