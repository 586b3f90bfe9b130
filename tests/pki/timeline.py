"""The fixed timeline of the test PKI (UTC). Verdicts never depend on the wall clock."""

from datetime import UTC, datetime

PKI_START = datetime(2024, 1, 1, tzinfo=UTC)
PKI_END = datetime(2034, 1, 1, tzinfo=UTC)
#: the expired signer's certificate ends here, before the signature
EXPIRED_END = datetime(2025, 1, 1, tzinfo=UTC)
#: the "revoked before signing" certificate is revoked here
REVOKED_BEFORE = datetime(2025, 2, 1, tzinfo=UTC)
#: every timestamp of the test suite carries this time (frozen)
SIGN_TIME = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
#: the "revoked after signing" certificate is revoked here, after the timestamp
REVOKED_AFTER = datetime(2025, 4, 1, tzinfo=UTC)
#: the withdrawn CA's service is withdrawn here, after the signature
WITHDRAWN_AT = datetime(2025, 4, 1, tzinfo=UTC)
#: CRLs are issued here and valid until CRL_NEXT
CRL_ISSUED = datetime(2025, 4, 15, tzinfo=UTC)
CRL_NEXT = datetime(2025, 7, 15, tzinfo=UTC)
#: the default validation time of the tests
VALIDATION_TIME = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
