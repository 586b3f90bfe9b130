"""Trust: ETSI TS 119 612 trusted lists, checked against configured TL signers, loaded once.

Trust anchors come **only** from trusted lists read from files. Each list's own XAdES signature
is verified against the configured TL-signer certificates before a single entry is used; an
unsigned list, a broken signature or a signature by a certificate that is not configured is
refused with :class:`~signing.errors.TrustListSignatureError`. Local CRL and OCSP files are
added as revocation data. Nothing is fetched from the network unless ``allow_fetching`` is set.

Threat model: trusted-list files are semi-trusted (an operator downloads them); they are parsed
with pyHanko's hardened parser (no DTDs, no entity resolution, no network) after signature
verification, and only the signed content is read (a list whose signature covers another
element than the list itself is refused).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.qualified.eutl_parse import trust_list_to_registry
from pyhanko.sign.validation.qualified.tsp import TSPRegistry, TSPTrustManager
from pyhanko_certvalidator.authority import Authority, TrustAnchor, TrustQualifiers
from pyhanko_certvalidator.revinfo.archival import CRLContainer, OCSPContainer

from .errors import TrustConfigError, TrustListError, TrustListSignatureError

__all__ = ["LoadedList", "TrustContext", "TrustSettings", "load_trust"]


@dataclass(frozen=True)
class TrustSettings:
    """Where trust comes from (the same keys as the ``[trust]`` section of the configuration)."""

    #: ETSI TS 119 612 trusted list files (national TL, or LOTL plus the TLs it points to)
    trusted_lists: tuple[str, ...] = ()
    #: PEM/DER certificates allowed to sign the trusted lists
    tl_signers: tuple[str, ...] = ()
    #: local CRL / OCSP response files (DER or PEM)
    revocation: tuple[str, ...] = ()
    #: verification fetches revocation data from the network only when this is set
    allow_fetching: bool = False

    @classmethod
    def from_config(cls, section: object) -> TrustSettings:
        """Build from any object with the same attribute names (e.g. the app's settings)."""
        return cls(
            trusted_lists=tuple(getattr(section, "trusted_lists", ())),
            tl_signers=tuple(getattr(section, "tl_signers", ())),
            revocation=tuple(getattr(section, "revocation", ())),
            allow_fetching=bool(getattr(section, "allow_fetching", False)),
        )


@dataclass(frozen=True)
class LoadedList:
    """A trusted list that was verified and loaded."""

    path: str
    sha256: str
    signer_subject: str
    services: int

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "signer": self.signer_subject,
            "services": self.services,
        }


class _TLTrustManager(TSPTrustManager):
    """Every CA/QC or QTST service on the lists, whatever its current status, is an anchor.

    As in DSS, trust in the path comes from the list; whether the certificate was *qualified*
    is decided separately, with the service status at the signing time. pyHanko would otherwise
    stop trusting a CA the moment its service is withdrawn, even for signatures whose timestamp
    proves they were made while it was granted.
    """

    def as_trust_anchor(self, authority: Authority) -> TrustAnchor | None:
        anchor = super().as_trust_anchor(authority)
        if anchor is None:
            return None
        quals = anchor.trust_qualifiers
        return TrustAnchor(
            authority, quals=TrustQualifiers(trusted_service_type=quals.trusted_service_type)
        )


@dataclass(frozen=True, eq=False)
class TrustContext:
    """Loaded trust: the TSP registry from the verified lists plus local revocation data.

    Load it once (:func:`load_trust`) and reuse it for every verification: it is immutable.
    """

    registry: TSPRegistry
    lists: tuple[LoadedList, ...]
    crls: tuple[CRLContainer, ...] = ()
    ocsps: tuple[OCSPContainer, ...] = ()
    allow_fetching: bool = False
    _trust_manager: TSPTrustManager = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_trust_manager", _TLTrustManager(self.registry))

    @property
    def trust_manager(self) -> TSPTrustManager:
        return self._trust_manager

    def to_dict(self) -> dict[str, object]:
        return {
            "trusted_lists": [tl.to_dict() for tl in self.lists],
            "crls": len(self.crls),
            "ocsp_responses": len(self.ocsps),
            "allow_fetching": self.allow_fetching,
        }


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise TrustConfigError(f"The {what} {path} cannot be read: {exc.strerror}.") from exc


def _load_tl_signers(paths: tuple[str, ...]) -> list[asn1_x509.Certificate]:
    certs: list[asn1_x509.Certificate] = []
    for path in paths:
        try:
            certs.extend(load_certs_from_pemder_data(_read(path, "TL-signer certificate")))
        except (ValueError, TypeError) as exc:
            raise TrustConfigError(
                f"The TL-signer certificate {path} is not a PEM or DER certificate."
            ) from exc
    return certs


def _load_revocation(
    paths: tuple[str, ...],
) -> tuple[list[CRLContainer], list[OCSPContainer]]:
    crls: list[CRLContainer] = []
    ocsps: list[OCSPContainer] = []
    for path in paths:
        data = _read(path, "revocation file")
        if pem.detect(data):
            _, _, data = pem.unarmor(data)
        try:
            crl = asn1_crl.CertificateList.load(data)
            crl.native  # noqa: B018 - force a full parse
            crls.append(CRLContainer(crl))
            continue
        except (ValueError, TypeError):
            pass
        try:
            resp = asn1_ocsp.OCSPResponse.load(data)
            resp.native  # noqa: B018
            ocsps.extend(OCSPContainer.load_multi(resp))
        except (ValueError, TypeError) as exc:
            raise TrustConfigError(
                f"The revocation file {path} is neither a CRL nor an OCSP response."
            ) from exc
    return crls, ocsps


def _count(registry: TSPRegistry) -> int:
    return len(list(registry.known_certificate_authorities)) + len(
        list(registry.known_timestamp_authorities)
    )


def load_trust(settings: TrustSettings) -> TrustContext:
    """Verify and load the trusted lists and local revocation data.

    :raises TrustConfigError: no list or no TL signer configured, or a file is unreadable.
    :raises TrustListSignatureError: a list is unsigned, wrongly signed or signed by a
        certificate that is not among the configured TL signers.
    :raises TrustListError: a list cannot be parsed.
    """
    if not settings.trusted_lists:
        raise TrustConfigError(
            "No trusted list is configured: set trust.trusted_lists (or pass --trusted-list)."
        )
    if not settings.tl_signers:
        raise TrustConfigError(
            "No TL-signer certificate is configured: set trust.tl_signers (or pass --tl-signer);"
            " trusted lists are never used without checking their signature."
        )
    signers = _load_tl_signers(settings.tl_signers)
    registry = TSPRegistry()
    loaded: list[LoadedList] = []
    for path in settings.trusted_lists:
        raw = _read(path, "trusted list")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TrustListError(f"The trusted list {path} is not UTF-8 XML.") from exc
        before = _count(registry)
        try:
            _, errors = trust_list_to_registry(text, signers, registry)
        except SignatureValidationError as exc:
            raise TrustListSignatureError(
                f"The trusted list {path} is refused: its signature does not verify against any"
                f" configured TL signer ({exc.failure_message.splitlines()[0]})."
            ) from exc
        except Exception as exc:  # noqa: BLE001 - the parser raises many kinds of errors
            raise TrustListError(f"The trusted list {path} cannot be read: {exc}.") from exc
        after = _count(registry)
        loaded.append(
            LoadedList(
                path=path,
                sha256=hashlib.sha256(raw).hexdigest(),
                signer_subject=", ".join(c.subject.human_friendly for c in signers[:1]),
                services=after - before - len(errors),
            )
        )
    crls, ocsps = _load_revocation(settings.revocation)
    return TrustContext(
        registry=registry,
        lists=tuple(loaded),
        crls=tuple(crls),
        ocsps=tuple(ocsps),
        allow_fetching=settings.allow_fetching,
    )
