"""Long-term validation data shared by CAdES and XAdES: embedded revocation data and levels.

The LT level (ETSI EN 319 122-1 / 319 132-1 B-LT) means the signature carries the validation
data needed to verify it later: the certificates and the revocation data (CRLs, OCSP responses)
of its chain. We report B-LT only when the embedded revocation data cover every certificate of
the signer's chain that needs them (everything below a trusted-list anchor, self-signed roots
excluded); otherwise the level stays B-T and a reason says what is missing. The embedded data
are *used*: they are added to the validation's local knowledge, so a B-LT signature verifies
without any local CRL or OCSP file.

LTA adds archive timestamps over the signature and its validation data. An archive timestamp is
checked like a signature timestamp (message imprint, TSA certificate path to a trusted-list
QTST anchor, qualification requirements); B-LTA is reported only when at least one verifies and
the signature is B-LT. Known limit: the proof of existence an archive timestamp gives is not
used to extend the validation past the expiry or revocation of a certificate (the signature
timestamp's POE is).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from asn1crypto import cms
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.validation.ades import ades_timestamp_validation
from pyhanko.sign.validation.policy_decl import LocalKnowledge, SignatureValidationSpec
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator.authority import AuthorityWithCert
from pyhanko_certvalidator.revinfo.archival import CRLContainer, OCSPContainer

from . import _common
from .classify import indication_of
from .trust import TrustContext


@dataclass
class Embedded:
    """Certificates and revocation data carried by a signature."""

    certs: list[asn1_x509.Certificate] = field(default_factory=list)
    crls: list[CRLContainer] = field(default_factory=list)
    ocsps: list[OCSPContainer] = field(default_factory=list)

    @property
    def has_revinfo(self) -> bool:
        return bool(self.crls or self.ocsps)

    def add_ocsp_response(self, resp: asn1_ocsp.OCSPResponse) -> None:
        self.ocsps.extend(OCSPContainer.load_multi(resp))

    def add_basic_ocsp(self, basic: asn1_ocsp.BasicOCSPResponse) -> None:
        resp = asn1_ocsp.OCSPResponse(
            {
                "response_status": "successful",
                "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
            }
        )
        self.add_ocsp_response(resp)


def with_embedded(spec: SignatureValidationSpec, data: Embedded) -> SignatureValidationSpec:
    """The spec with the signature's own certificates and revocation data as local knowledge."""
    if not (data.certs or data.has_revinfo):
        return spec
    base = spec.local_knowledge
    return dataclasses.replace(
        spec,
        local_knowledge=LocalKnowledge(
            known_crls=[*base.known_crls, *data.crls],
            known_ocsps=[*base.known_ocsps, *data.ocsps],
            known_certs=[*base.known_certs, *data.certs],
        ),
    )


def listed_certs(trust: TrustContext) -> list[asn1_x509.Certificate]:
    """Certificates of the CA/QC and QTST services on the loaded trusted lists."""
    out = []
    registry = trust.registry
    for authority in [
        *registry.known_certificate_authorities,
        *registry.known_timestamp_authorities,
    ]:
        if isinstance(authority, AuthorityWithCert):
            out.append(authority.certificate)
    return out


@lru_cache(maxsize=16)
def _anchor_hashes(trust: TrustContext) -> frozenset[bytes]:
    return frozenset(c.sha256 for c in listed_certs(trust))


def needing_revinfo(
    leaf: asn1_x509.Certificate,
    pool: list[asn1_x509.Certificate],
    trust: TrustContext,
) -> list[asn1_x509.Certificate]:
    """The leaf and its issuers up to (not including) a trusted-list anchor or a root."""
    anchors = _anchor_hashes(trust)
    out: list[asn1_x509.Certificate] = []
    seen: set[bytes] = set()
    cur: asn1_x509.Certificate | None = leaf
    while cur is not None and cur.sha256 not in anchors and cur.sha256 not in seen:
        if cur.issuer == cur.subject:
            break
        out.append(cur)
        seen.add(cur.sha256)
        cur = next((c for c in pool if c.subject == cur.issuer), None)
    return out


def _ocsp_covers(container: OCSPContainer, cert: asn1_x509.Certificate) -> bool:
    try:
        single = container.extract_single_response()
        if single is None:
            return False
        cert_id = single["cert_id"]
    except Exception:  # noqa: BLE001 - malformed: it covers nothing
        return False
    if cert_id["serial_number"].native != cert.serial_number:
        return False
    algo = cert_id["hash_algorithm"]["algorithm"].native
    return bool(
        hashlib.new(algo, cert.issuer.dump()).digest() == cert_id["issuer_name_hash"].native
    )


def uncovered(certs: list[asn1_x509.Certificate], data: Embedded) -> list[asn1_x509.Certificate]:
    """Certificates for which the embedded data hold no CRL of their issuer and no OCSP."""
    crl_issuers = [c.crl_data["tbs_cert_list"]["issuer"] for c in data.crls]
    out = []
    for cert in certs:
        if any(issuer == cert.issuer for issuer in crl_issuers):
            continue
        if any(_ocsp_covers(o, cert) for o in data.ocsps):
            continue
        out.append(cert)
    return out


@dataclass(frozen=True)
class ArchiveCheck:
    """The outcome of checking one archive timestamp."""

    ok: bool
    time: datetime | None
    tsa: str | None
    why: str | None


async def check_archive_timestamp(
    tst: cms.SignedData,
    digest_for: Callable[[str], bytes],
    spec: SignatureValidationSpec,
    *,
    at: datetime,
    explicit: bool,
) -> ArchiveCheck:
    """Verify an archive timestamp token whose imprint must be ``digest_for(algorithm)``."""
    try:
        res = await ades_timestamp_validation(
            tst, spec, digest_for, timing_info=_common.timing(at, explicit)
        )
    except Exception as exc:  # noqa: BLE001 - a malformed token proves nothing
        return ArchiveCheck(False, None, None, f"The archive timestamp cannot be read: {exc}.")
    status = res.api_status if isinstance(res.api_status, TimestampSignatureStatus) else None
    if isinstance(res.ades_subindic, AdESPassed) and status is not None:
        return ArchiveCheck(True, status.timestamp, _common.name_of(status.signing_cert), None)
    _, sub = indication_of(res.ades_subindic)
    detail = "it does not cover this signature and its validation data"
    if status is not None and status.intact and status.valid:
        detail = "its TSA is not trusted or not qualified"
    return ArchiveCheck(
        False,
        status.timestamp if status is not None else None,
        None,
        f"An archive timestamp does not verify ({sub}): {detail}.",
    )


def level_and_reasons(
    *,
    timestamped: bool,
    chain: list[asn1_x509.Certificate],
    data: Embedded,
    archives: list[ArchiveCheck],
) -> tuple[str, list[str]]:
    """The baseline level (B-B, B-T, B-LT, B-LTA) and the reasons that explain a lower one."""
    reasons: list[str] = []
    if not timestamped:
        if data.has_revinfo or archives:
            reasons.append(
                "The signature carries validation data but no signature timestamp: level B-B."
            )
        return "B-B", reasons
    if not data.has_revinfo:
        if archives:
            reasons.append(
                "The signature has an archive timestamp but no embedded revocation data: level B-T."
            )
        return "B-T", reasons
    missing = uncovered(chain, data)
    if missing:
        names = "; ".join(_common.name_of(c) for c in missing)
        reasons.append(f"Revocation data are embedded but not for {names}: level B-T, not B-LT.")
        return "B-T", reasons
    good = [a for a in archives if a.ok]
    reasons.extend(a.why for a in archives if not a.ok and a.why)
    if good:
        latest = max(good, key=lambda a: a.time or datetime.min)
        reasons.append(
            f"An archive timestamp of {_common.iso(latest.time)} by {latest.tsa} covers the"
            " signature and its validation data."
        )
        return "B-LTA", reasons
    return "B-LT", reasons
