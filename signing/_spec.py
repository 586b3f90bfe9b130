"""The pyHanko validation spec built from a :class:`~signing.trust.TrustContext`."""

from __future__ import annotations

from functools import lru_cache

from pyhanko.sign.validation.policy_decl import (
    CertificateFetchingRule,
    LocalKnowledge,
    QualificationRequirements,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)

from .trust import TrustContext

#: a qualified certificate with only nonRepudiation must pass: either bit is enough
SIGNER_KEY_USAGE = KeyUsageConstraints(
    key_usage=frozenset({"digital_signature", "non_repudiation"}),
    match_all_key_usages=False,
)

#: timestamps must come from a qualified TSA (pyHanko wants QcCompliance in its certificate);
#: any QC type is accepted for a TSA
TS_REQUIREMENTS = QualificationRequirements(permit_cert_types=None)


@lru_cache(maxsize=16)
def signature_spec(trust: TrustContext) -> SignatureValidationSpec:
    """Validation spec: TL trust, revocation required for the whole chain, local data only."""
    revocation = CertRevTrustPolicy(
        RevocationCheckingPolicy(
            ee_certificate_rule=RevocationCheckingRule.CRL_OR_OCSP_REQUIRED,
            intermediate_ca_cert_rule=RevocationCheckingRule.CRL_OR_OCSP_REQUIRED,
        )
    )
    fetching = RevocationInfoGatheringSpec(
        online_fetching_rule=(
            RevinfoOnlineFetchingRule.NO_HISTORICAL_FETCH
            if trust.allow_fetching
            else RevinfoOnlineFetchingRule.LOCAL_ONLY
        ),
        certificate_fetching_rule=CertificateFetchingRule.NEVER_FETCH,
    )
    return SignatureValidationSpec(
        cert_validation_policy=CertValidationPolicySpec(
            trust_manager=trust.trust_manager, revinfo_policy=revocation
        ),
        revinfo_gathering_policy=fetching,
        local_knowledge=LocalKnowledge(known_crls=list(trust.crls), known_ocsps=list(trust.ocsps)),
        key_usage_settings=SIGNER_KEY_USAGE,
        qualification_requirements=None,
        ts_qualification_requirements=TS_REQUIREMENTS,
    )
