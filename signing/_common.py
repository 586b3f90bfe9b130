"""Turning a pyHanko AdES result into a :class:`~signing.report.SignatureReport`."""

from __future__ import annotations

from datetime import datetime

from asn1crypto import x509
from pyhanko.sign.ades.report import AdESIndeterminate, AdESPassed, AdESSubIndic
from pyhanko.sign.validation.status import SignatureStatus, TimestampSignatureStatus
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo

from .classify import classify, indication_of
from .report import INDETERMINATE, TOTAL_PASSED, SignatureReport, SignerInfo, TimestampInfo

_SUBINDICATION_WORDS = {
    "HASH_FAILURE": "The signed data were changed after signing (digest mismatch).",
    "SIG_CRYPTO_FAILURE": "The signature value does not verify with the signer's public key.",
    "FORMAT_FAILURE": "The signature is malformed.",
    "REVOKED": "The signer's certificate was revoked before the signature was made.",
    "REVOKED_NO_POE": "The signer's certificate is revoked and nothing proves that the"
    " signature existed before the revocation.",
    "REVOKED_CA_NO_POE": "A CA certificate in the chain is revoked and nothing proves that the"
    " signature existed before.",
    "OUT_OF_BOUNDS_NO_POE": "The signer's certificate was not valid at the signing time (it had"
    " expired or was not yet valid).",
    "OUT_OF_BOUNDS_NOT_REVOKED": "The signer's certificate has expired.",
    "NO_CERTIFICATE_CHAIN_FOUND": "The signer's certificate does not lead to a trust anchor of"
    " the configured trusted lists.",
    "NO_SIGNING_CERTIFICATE_FOUND": "The signer's certificate is missing from the signature.",
    "TRY_LATER": "No revocation data is available for the signer's certificate chain.",
    "REVOCATION_OUT_OF_BOUNDS_NO_POE": "The available revocation data are not fresh enough.",
    "SIG_CONSTRAINTS_FAILURE": "The signature does not meet the validation constraints.",
    "CHAIN_CONSTRAINTS_FAILURE": "The certificate chain does not meet the validation"
    " constraints (e.g. key usage).",
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": "The certificate chain cannot be validated.",
    "CRYPTO_CONSTRAINTS_FAILURE": "The signature uses an algorithm no longer accepted.",
    "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": "The signature uses an algorithm no longer accepted.",
    "NOT_YET_VALID": "The signer's certificate was not yet valid at the signing time.",
    "EXPIRED": "The signer's certificate had expired at the signing time.",
    "TIMESTAMP_ORDER_FAILURE": "The timestamps of the signature are in an impossible order.",
    "SIGNED_DATA_NOT_FOUND": "The signed content is not available.",
    "GENERIC": "The signature cannot be validated.",
}


def timing(at: datetime, explicit: bool) -> ValidationTimingInfo:
    return ValidationTimingInfo(
        validation_time=at, best_signature_time=at, point_in_time_validation=explicit
    )


def words(sub: str | None) -> str | None:
    return _SUBINDICATION_WORDS.get(sub or "")


def name_of(cert: x509.Certificate) -> str:
    return str(cert.subject.human_friendly)


def signer_info(cert: x509.Certificate | None) -> SignerInfo | None:
    if cert is None:
        return None
    return SignerInfo(
        subject=str(cert.subject.human_friendly),
        issuer=str(cert.issuer.human_friendly),
        serial=format(cert.serial_number, "x"),
    )


def iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def timestamp_info(ts: TimestampSignatureStatus | None) -> TimestampInfo | None:
    if ts is None:
        return None
    q = getattr(ts, "qualification_result", None)
    return TimestampInfo(
        time=ts.timestamp.isoformat(),
        tsa=name_of(ts.signing_cert),
        indication=TOTAL_PASSED if (ts.intact and ts.valid and ts.trusted) else INDETERMINATE,
        qualified=bool(q and q.status.qualified),
    )


def build(
    *,
    fmt: str,
    level: str,
    sub: AdESSubIndic,
    status: SignatureStatus | None,
    failure_msg: str | None,
    best_time: datetime | None,
    timestamped: bool,
    cert: x509.Certificate | None,
    covers_whole_document: bool = True,
    modifications: str = "none",
    extra_reasons: list[str] | None = None,
    override: tuple[str, str | None, str] | None = None,
) -> SignatureReport:
    """Assemble the report, applying the checks pyHanko leaves to the caller."""
    reasons: list[str] = list(extra_reasons or ())
    ts_status: TimestampSignatureStatus | None = getattr(status, "timestamp_validity", None)
    if cert is None and status is not None:
        cert = status.signing_cert
    # Trap: a signer certificate that had expired before the proven signing time passes
    # ades_with_time_validation; EN 319 102-1 gives INDETERMINATE/OUT_OF_BOUNDS_NO_POE.
    if (
        isinstance(sub, AdESPassed)
        and cert is not None
        and best_time is not None
        and best_time > cert.not_valid_after
    ):
        sub = AdESIndeterminate.OUT_OF_BOUNDS_NO_POE
    indication, subindication = indication_of(sub)
    if override is not None:
        indication, subindication, why = override
        reasons.append(why)
    text = words(subindication)
    if text:
        reasons.append(text)
    if failure_msg and indication != TOTAL_PASSED:
        reasons.append(failure_msg.strip().splitlines()[0])
    qualification_result = getattr(status, "qualification_result", None)
    qualification, class_reasons = classify(indication, qualification_result, cert)
    reasons.extend(class_reasons)
    reported = getattr(status, "signer_reported_dt", None)
    signing_time = best_time if timestamped else reported
    return SignatureReport(
        format=fmt,
        level=level,
        indication=indication,
        subindication=subindication,
        qualification=qualification,
        signer=signer_info(cert),
        signing_time=iso(signing_time),
        timestamp=timestamp_info(ts_status) if timestamped else None,
        covers_whole_document=covers_whole_document,
        modifications=modifications,
        reasons=tuple(dict.fromkeys(reasons)),
    )


def not_verifiable(fmt: str, why: str, cert: x509.Certificate | None = None) -> SignatureReport:
    """A signature found but not verifiable at all (INDETERMINATE, with the reason)."""
    return SignatureReport(
        format=fmt,
        level="B-B",
        indication=INDETERMINATE,
        subindication="GENERIC",
        qualification="Indeterminate",
        signer=signer_info(cert),
        signing_time=None,
        timestamp=None,
        covers_whole_document=False,
        modifications="none",
        reasons=(why,),
    )
