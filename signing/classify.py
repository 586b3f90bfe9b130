"""Classification of a signature (DSS's signature qualification levels) and ETSI indications.

The rules, with their DSS counterparts, are documented in :mod:`signing`'s docstring.
"""

from __future__ import annotations

from asn1crypto import x509
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESPassed, AdESSubIndic
from pyhanko.sign.validation.qualified.q_status import QualificationResult
from pyhanko.sign.validation.qualified.tsp import QcCertType

from .report import INDETERMINATE, TOTAL_FAILED, TOTAL_PASSED

__all__ = ["classify", "indication_of", "is_seal_subject"]

_ORG_ID = "2.5.4.97"
_PERSON_ATTRS = {"given_name", "surname", "pseudonym"}


def indication_of(sub: AdESSubIndic) -> tuple[str, str | None]:
    """ETSI EN 319 102-1 indication and sub-indication of a pyHanko AdES result."""
    if isinstance(sub, AdESPassed):
        return TOTAL_PASSED, None
    if isinstance(sub, AdESFailure):
        return TOTAL_FAILED, sub.name
    if isinstance(sub, AdESIndeterminate):
        return INDETERMINATE, sub.name
    return INDETERMINATE, "GENERIC"


def is_seal_subject(cert: x509.Certificate) -> bool:
    """A legal person's certificate: organizationIdentifier and no natural-person name."""
    names = set()
    for rdn in cert.subject.chosen:
        for pair in rdn:
            names.add(pair["type"].dotted if pair["type"].native is None else pair["type"].native)
            names.add(pair["type"].dotted)
    has_org_id = _ORG_ID in names or "organization_identifier" in names
    return has_org_id and not (names & _PERSON_ATTRS)


def classify(
    indication: str,
    qualification: QualificationResult | None,
    cert: x509.Certificate | None,
) -> tuple[str, list[str]]:
    """The qualification class and reasons explaining it."""
    reasons: list[str] = []
    if indication == TOTAL_FAILED:
        return "NotAdES", reasons
    if indication == INDETERMINATE:
        return "Indeterminate", reasons
    status = qualification.status if qualification else None
    if status is not None and status.qualified:
        if status.qc_type == QcCertType.QC_WEB:
            reasons.append(
                "The certificate is qualified for website authentication, not for signatures"
                " or seals."
            )
            return "AdESeal" if cert is not None and is_seal_subject(cert) else "AdESig", reasons
        seal = status.qc_type == QcCertType.QC_ESEAL
        if status.qc_key_security.is_qscd:
            return ("QESeal" if seal else "QESig"), reasons
        reasons.append(
            "The certificate is qualified but its key is not declared to be on a qualified"
            " signature creation device (QSCD)."
        )
        return ("AdESeal-QC" if seal else "AdESig-QC"), reasons
    if qualification is None or qualification.service_definition is None:
        reasons.append(
            "No granted qualified service on the trusted list covers the certificate at the"
            " signing time."
        )
    else:
        reasons.append("The certificate is not a qualified certificate (no QcCompliance).")
    seal = cert is not None and is_seal_subject(cert)
    return ("AdESeal" if seal else "AdESig"), reasons
