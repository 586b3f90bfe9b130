"""Signature verification and qualification against ETSI trusted lists.

Public API::

    trust = load_trust(TrustSettings(trusted_lists=(...,), tl_signers=(...,), revocation=(...,)))
    report = verify_file(path_or_bytes, name="x.pdf", trust=trust, at=None)
    sub = verify_submission_files([(name, data), ...], trust, at=None)
    report.to_dict(); report.summary("cs"); sub.recognised

Formats: PAdES (every signature in a PDF), CAdES detached (``.p7s``) and enveloping (``.p7m``,
``.zfo``), XAdES enveloped in an XML form. Trust anchors come only from trusted lists whose own
signature verifies against configured TL signers. Nothing is fetched unless configured.

Classification and its DSS counterpart
--------------------------------------
DSS (the EU's Digital Signature Service) reports, per signature, an ETSI EN 319 102-1 indication
and a *signature qualification* (``SignatureQualification``). We report the same indication and
sub-indication names, and map the qualification as follows:

=================  ===============================================  ===========================
ours               condition                                        DSS
=================  ===============================================  ===========================
``QESig``          TOTAL_PASSED, QC at signing time, QcType esign   QESig
                   (or none), key on a QSCD
``QESeal``         same, QcType eseal                               QESeal
``AdESig-QC``      TOTAL_PASSED, QC, no QSCD, esign                 AdESig-QC
``AdESeal-QC``     TOTAL_PASSED, QC, no QSCD, eseal                 AdESeal-QC
``AdESig``         TOTAL_PASSED, not QC (or no granted CA/QC        AdESig (DSS: "AdES" when it
                   service at signing time), natural person          cannot tell sig from seal)
``AdESeal``        same, legal-person subject (organizationId,      AdESeal
                   no given name / surname)
``Indeterminate``  indication INDETERMINATE                         Indeterminate QESig /
                                                                    Indeterminate AdES ... (the
                                                                    "would-be" level is not kept)
``NotAdES``        indication TOTAL_FAILED                          Not AdES (NOT_ADES*)
=================  ===============================================  ===========================

"QC at signing time" is decided by pyHanko's :class:`QualificationAssessor` from the QC
statements (QcCompliance, QcSSCD, QcType) as overridden by the TL service's qualifiers, with
the CA/QC service *granted* at the best signing time (the timestamp's time when there is one,
else the validation time) — as DSS does with the TL status at signing time. A service withdrawn
after a timestamped signature therefore still yields ``QESig``.

Where we are stricter than DSS's default policy (which only warns):

- A PDF changed after signing by an incremental update other than DSS/VRI data, document
  timestamps, or the form filling / annotations its DocMDP level permits is ``TOTAL_FAILED``
  / ``FORMAT_FAILURE`` (``modifications: "illegal"``), never PASSED.
- A signer certificate that expired before the proven signing time is
  ``INDETERMINATE`` / ``OUT_OF_BOUNDS_NO_POE`` (pyHanko's with-time validation passes it).
- Signature timestamps must come from a qualified TSA (CA/QTST on the list, QcCompliance).
- Revocation data is required for every certificate of the chain below the anchor.

A document is *recognised-signed* when at least one signature that covers all of it is
TOTAL_PASSED and is QESig, AdESig-QC, QESeal or AdESeal-QC.

Trusted lists: a national TL, or the EU LOTL plus the national TLs it points to, each list's
signature checked (the LOTL and directly configured lists against the configured TL signers, a
pointed-to TL against the certificates the LOTL gives for it; a pointed-to TL that fails is
refused with its reason and the others load), see :mod:`signing.trust`. ``podatelna trust
refresh`` (:mod:`signing.refresh`, off unless ``allow_fetching``) downloads and verifies them
into a cache (:mod:`signing.tl_cache`) that verification reads.

Levels: B-B, B-T, B-LT (validation data embedded for the whole chain, and used for the
validation) and B-LTA (a verified archive timestamp) for CAdES and XAdES (:mod:`signing._ltv`,
:mod:`signing.cades_ltv`, :mod:`signing.xades_ltv`); for PAdES the level is read from the
document (timestamps, DSS) and the DSS's revocation data are used.

Known limits: the proof of existence given by archive and document timestamps is not used to
validate into the past (after a certificate expired or was revoked); only the signature
timestamp's is. XAdES: only the first SignatureTimeStamp is read, and XAdES 1.3.2 archive
timestamps and CAdES archive-time-stamp v2 are reported but not evaluated.

Sealing (``signing.seal``, ``signing.keys``, ``signing.tsa``) is exported below as well.
"""

from .errors import (
    FetchRefusedError,
    InputError,
    SigningError,
    TrustConfigError,
    TrustListError,
    TrustListSignatureError,
)
from .files import averify_file, averify_submission_files, verify_file, verify_submission_files
from .keys import EmbeddedPki, KeptKeySigner, SealKeyError, ensure_embedded_pki, load_pkcs12
from .report import (
    RECOGNISED_QUALIFICATIONS,
    DocumentReport,
    SignatureReport,
    SignerInfo,
    SubmissionReport,
    TimestampInfo,
)
from .seal import LEVELS, Sealer, SealError
from .trust import LoadedList, RefusedList, TrustContext, TrustSettings, load_trust
from .tsa import HttpTimestamper, LocalTimestamper, Timestamper, TimestampError

__all__ = [
    "LEVELS",
    "RECOGNISED_QUALIFICATIONS",
    "EmbeddedPki",
    "HttpTimestamper",
    "KeptKeySigner",
    "LocalTimestamper",
    "SealError",
    "SealKeyError",
    "Sealer",
    "TimestampError",
    "Timestamper",
    "ensure_embedded_pki",
    "load_pkcs12",
    "DocumentReport",
    "FetchRefusedError",
    "InputError",
    "LoadedList",
    "RefusedList",
    "SignatureReport",
    "SignerInfo",
    "SigningError",
    "SubmissionReport",
    "TimestampInfo",
    "TrustConfigError",
    "TrustContext",
    "TrustListError",
    "TrustListSignatureError",
    "TrustSettings",
    "averify_file",
    "averify_submission_files",
    "load_trust",
    "verify_file",
    "verify_submission_files",
]
