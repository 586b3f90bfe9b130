"""CAdES / CMS: detached (``.p7s``) and enveloping (``.p7m``, ISDS ``.zfo``) signatures.

Threat model: the CMS blob is untrusted DER, parsed by asn1crypto; the detached content is
hashed as given. Limits: the first SignerInfo is verified. Levels B-B, B-T, B-LT and B-LTA are
evaluated (see :mod:`signing.cades_ltv` and :mod:`signing._ltv`): certificates and revocation data
embedded in the signature are used for its validation.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from asn1crypto import cms, core, x509
from pyhanko.sign.general import extract_certificate_info
from pyhanko.sign.validation import generic_cms
from pyhanko.sign.validation.ades import (
    AdESBasicValidationResult,
    ades_basic_validation,
    ades_with_time_validation,
)

from . import _common, _ltv
from ._spec import signature_spec
from .cades_ltv import archive_checks, read_embedded
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
        for si in sd["signer_infos"]:
            # force a parse of what we use; not of unsigned attributes as a whole, whose
            # values of types asn1crypto does not know (revocation-values...) have no native form
            si["sid"].native  # noqa: B018
            si["digest_algorithm"].native  # noqa: B018
            si["signature"].native  # noqa: B018
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


def _certs_of(sd: cms.SignedData) -> list[x509.Certificate]:
    certs = sd["certificates"]
    if isinstance(certs, core.Void):
        return []
    return [c.chosen for c in certs if c.name == "certificate"]


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
    signer_info = generic_cms.extract_signer_info(sd)
    try:
        embedded = read_embedded(sd, signer_info)
    except (ValueError, TypeError, KeyError) as exc:
        return [
            _common.not_verifiable(
                "CAdES", f"The signature's embedded validation data are malformed: {exc}.", cert
            )
        ]
    spec = _ltv.with_embedded(signature_spec(trust), embedded)
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
    content = enveloped if enveloped is not None else detached_content
    assert content is not None
    archives = await archive_checks(sd, signer_info, content, spec, at=at, explicit=explicit_time)
    chain = (
        _ltv.needing_revinfo(cert, [*embedded.certs, *_certs_of(sd)], trust)
        if cert is not None
        else []
    )
    level, level_reasons = _ltv.level_and_reasons(
        timestamped=timestamped, chain=chain, data=embedded, archives=archives
    )
    return [
        _common.build(
            fmt="CAdES",
            level=level,
            extra_reasons=level_reasons,
            sub=res.ades_subindic,
            status=res.api_status,
            failure_msg=res.failure_msg,
            best_time=best,
            timestamped=timestamped,
            cert=cert,
        )
    ]
