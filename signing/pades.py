"""PAdES: every signature embedded in a PDF, with coverage and modification analysis.

Threat model: the PDF is untrusted; pyHanko's reader parses it (non-strict, so that damaged but
signed files still get a verdict) and its difference analysis classifies every incremental
update after each signature. Beyond pyHanko's PASSED: an update that changes content
(modification level OTHER) or breaks the DocMDP permissions makes the verdict TOTAL_FAILED; an
update adding DSS/VRI data or a document timestamp is permitted. Limits: encrypted PDFs are
reported as not verifiable.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from io import BytesIO
from typing import Any

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel
from pyhanko.sign.validation import generic_cms
from pyhanko.sign.validation.ades import (
    AdESBasicValidationResult,
    ades_basic_validation,
    ades_with_time_validation,
)
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.policy_decl import LocalKnowledge, SignatureValidationSpec
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel

from . import _common
from ._spec import signature_spec
from .report import TOTAL_FAILED, SignatureReport
from .trust import TrustContext

__all__ = ["is_pdf", "verify_pdf"]

_PERMITTED = {
    ModificationLevel.LTA_UPDATES,
    ModificationLevel.FORM_FILLING,
    ModificationLevel.ANNOTATIONS,
}


def is_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


def _has_signature_ts(sig: EmbeddedPdfSignature) -> bool:
    return next(generic_cms.extract_tst_data_iter(sig.signer_info, signed=False), None) is not None


def _level(sig: EmbeddedPdfSignature, timestamped: bool) -> str:
    if not timestamped:
        return "B-B"
    reader = sig.reader
    later_doc_ts = any(
        ts.signed_revision > sig.signed_revision for ts in reader.embedded_timestamp_signatures
    )
    if later_doc_ts:
        return "B-LTA"
    try:
        has_dss = "/DSS" in reader.root
    except Exception:  # noqa: BLE001
        has_dss = False
    return "B-LT" if has_dss else "B-T"


def _modifications(integrity: dict[str, Any]) -> tuple[str, bool]:
    """(``none|permitted|illegal``, covers the whole document) from pyHanko's integrity info."""
    coverage = integrity.get("coverage")
    if coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return "none", True
    if coverage != SignatureCoverageLevel.ENTIRE_REVISION:
        return "illegal", False
    level = getattr(integrity.get("diff_result"), "modification_level", ModificationLevel.OTHER)
    if level == ModificationLevel.NONE:
        return "none", True
    if level in _PERMITTED and integrity.get("docmdp_ok") is not False:
        # DSS data and document timestamps do not change what was signed
        return "permitted", level == ModificationLevel.LTA_UPDATES
    return "illegal", False


def _unsigned_tail(sig: EmbeddedPdfSignature, data: bytes) -> bool:
    """Bytes other than whitespace after the last signed byte of the file.

    pyHanko calls such a file entirely covered; a recovering PDF reader may still pick up
    objects from the tail, so we do not.
    """
    br = sig.sig_object["/ByteRange"]
    end = int(br[2]) + int(br[3])
    return end < len(data) and bool(data[end:].strip())


def _with_dss(spec: SignatureValidationSpec, sig: EmbeddedPdfSignature) -> SignatureValidationSpec:
    """Add the certificates, CRLs and OCSP responses of the PDF's DSS to the local knowledge."""
    try:
        from pyhanko.sign.validation.ades import _dss_to_local_knowledge  # private, stable

        dss = _dss_to_local_knowledge(sig.reader)
    except Exception:  # noqa: BLE001 - no or unreadable DSS: nothing to add
        return spec
    base = spec.local_knowledge
    return dataclasses.replace(
        spec,
        local_knowledge=LocalKnowledge(
            known_crls=base.known_crls + dss.known_crls,
            known_ocsps=base.known_ocsps + dss.known_ocsps,
            known_certs=base.known_certs + dss.known_certs,
        ),
    )


async def _verify_one(
    sig: EmbeddedPdfSignature, data: bytes, trust: TrustContext, at: datetime, explicit: bool
) -> SignatureReport:
    spec = _with_dss(signature_spec(trust), sig)
    timing = _common.timing(at, explicit)
    timestamped = _has_signature_ts(sig)
    cert = sig.signer_cert
    sig.compute_integrity_info(DEFAULT_DIFF_POLICY)
    res: AdESBasicValidationResult
    if timestamped:
        # ades_lta_validation credits proof of existence only from document timestamps (and
        # then fails its past validation); the signature timestamp is the POE we want.
        res = await ades_with_time_validation(
            sig.signed_data,
            spec,
            timing_info=timing,
            raw_digest=sig.compute_digest(),
            extra_status_kwargs=sig.summarise_integrity_info(),
            status_cls=PdfSignatureStatus,
        )
        best = res.best_signature_time  # type: ignore[attr-defined]
    else:
        res = await ades_basic_validation(
            sig.signed_data, spec, timing_info=timing, raw_digest=sig.compute_digest()
        )
        best = at
    modifications, covers = _modifications(sig.summarise_integrity_info())
    if covers and _unsigned_tail(sig, data):
        modifications, covers = "illegal", False
    override = None
    if modifications == "illegal":
        override = (
            TOTAL_FAILED,
            "FORMAT_FAILURE",
            "The PDF was changed after signing in a way the signature does not permit"
            " (content changed by an incremental update, or the signature does not cover"
            " the signed revision).",
        )
    return _common.build(
        fmt="PAdES",
        level=_level(sig, timestamped),
        sub=res.ades_subindic,
        status=res.api_status,
        failure_msg=res.failure_msg,
        best_time=best,
        timestamped=timestamped,
        cert=cert,
        covers_whole_document=covers,
        modifications=modifications,
        override=override,
    )


async def verify_pdf(
    data: bytes, *, trust: TrustContext, at: datetime, explicit_time: bool
) -> tuple[list[SignatureReport], str | None]:
    """Reports of every signature in the PDF (document timestamps excluded), and a problem."""
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        if reader.encrypted:
            return [], "The PDF is encrypted; its signatures cannot be verified."
        sigs = list(reader.embedded_regular_signatures)
    except Exception as exc:  # noqa: BLE001 - a broken PDF gets a report, not a crash
        return [], f"The PDF cannot be read: {exc}."
    reports = []
    for sig in sigs:
        try:
            reports.append(await _verify_one(sig, data, trust, at, explicit_time))
        except Exception as exc:  # noqa: BLE001
            reports.append(
                _common.not_verifiable("PAdES", f"The signature cannot be processed: {exc}.")
            )
    return reports, None
