"""Trust: ETSI TS 119 612 trusted lists, checked against configured TL signers, loaded once.

Trust anchors come **only** from trusted lists read from files (the configured
``trusted_lists`` and, when a ``cache_dir`` is set, the lists ``podatelna trust refresh`` stored
there; see :mod:`signing.tl_cache`). Each list's own XAdES signature is verified before a single
entry is used, and only the signed content is read:

- a national TL given directly, or a LOTL (EU list of the lists: ``TSLType`` ending in
  ``listofthelists``), must be signed by one of the configured ``tl_signers``; otherwise it is
  refused with :class:`~signing.errors.TrustListSignatureError` and nothing loads (it is the
  operator's own configuration that is wrong);
- a national TL that a loaded LOTL points to (matched by the pointer's location when the list
  came from the cache, else by its ``SchemeTerritory``) must be signed by one of the
  certificates that pointer gives. A pointed-to list with a broken or unknown signature is
  *refused* with its reason recorded in :attr:`TrustContext.refused` (and logged), and the other
  lists still load: one member state's broken list must not stop the office.

Local CRL and OCSP files are added as revocation data. Nothing is fetched from the network here.

Threat model: trusted-list files are semi-trusted (an operator or the refresh command downloads
them); they are parsed with pyHanko's hardened parser (no DTDs, no entity resolution, no
network) after signature verification. The only thing read *before* verification is the list
type and territory (with the same restrictions), to choose which certificates must have signed
it; a lie there only selects certificates that will not verify the signature.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from lxml import etree
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.qualified.eutl_parse import (
    LOTL_RULE,
    TLReference,
    _validate_and_extract_tl_data,
    parse_lotl_unsafe,
    trust_list_to_registry_unsafe,
)
from pyhanko.sign.validation.qualified.tsp import TSPRegistry, TSPTrustManager
from pyhanko_certvalidator.authority import Authority, TrustAnchor, TrustQualifiers
from pyhanko_certvalidator.revinfo.archival import CRLContainer, OCSPContainer

from .errors import TrustConfigError, TrustListError, TrustListSignatureError
from .tl_cache import read_cache

__all__ = ["LoadedList", "RefusedList", "TrustContext", "TrustSettings", "load_trust"]

log = logging.getLogger(__name__)

_TSL_NS = "http://uri.etsi.org/02231/v2#"


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
    #: directory of lists stored by ``podatelna trust refresh`` ("" = none); used with the files
    cache_dir: str = ""

    @classmethod
    def from_config(cls, section: object, data_dir: str | Path | None = None) -> TrustSettings:
        """Build from any object with the same attribute names (e.g. the app's settings).

        ``data_dir`` gives the default cache directory ``<data_dir>/trusted-lists`` when the
        section's ``cache_dir`` is empty.
        """
        cache_dir = str(getattr(section, "cache_dir", "") or "")
        if not cache_dir and data_dir is not None:
            cache_dir = str(Path(data_dir) / "trusted-lists")
        return cls(
            trusted_lists=tuple(getattr(section, "trusted_lists", ())),
            tl_signers=tuple(getattr(section, "tl_signers", ())),
            revocation=tuple(getattr(section, "revocation", ())),
            allow_fetching=bool(getattr(section, "allow_fetching", False)),
            cache_dir=cache_dir,
        )

    @property
    def has_lists(self) -> bool:
        """Whether any list is configured or cached (without verifying anything)."""
        return bool(self.trusted_lists) or bool(self.cache_dir and read_cache(self.cache_dir))


@dataclass(frozen=True)
class LoadedList:
    """A trusted list that was verified and loaded."""

    path: str
    sha256: str
    #: the certificate whose key verified the list's signature
    signer_subject: str
    #: trust services read from it (0 for a LOTL)
    services: int
    kind: Literal["TL", "LOTL"] = "TL"
    territory: str = ""
    #: "tl_signers" (configured) or "LOTL" (the certificates a loaded LOTL gives)
    verified_by: str = "tl_signers"

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "kind": self.kind,
            "territory": self.territory,
            "sha256": self.sha256,
            "signer": self.signer_subject,
            "verified_by": self.verified_by,
            "services": self.services,
        }


@dataclass(frozen=True)
class RefusedList:
    """A list a LOTL points to that was refused (its reason in plain words); others loaded."""

    path: str
    territory: str
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "territory": self.territory, "reason": self.reason}


class _TLTrustManager(TSPTrustManager):
    """Every CA/QC or QTST service on the lists, whatever its current status, is an anchor.

    As in DSS, trust in the path comes from the list; whether the certificate was *qualified*
    is decided separately, with the service status at the signing time. pyHanko would otherwise
    stop trusting a CA the moment its service is withdrawn, even for signatures whose timestamp
    proves they were made while it was granted.

    Speed: pyHanko's manager looks up the service definitions of *every* listed CA for every
    certificate whose issuer it searches, before checking whether the CA could have issued it;
    with the EU lists (hundreds of CAs) that dominates a verification. Here the listed CAs are
    indexed by subject name once, only those named like the certificate's issuer are tested,
    and each CA's anchor is computed once (the registry never changes after loading): exactly
    the same anchors are selected.
    """

    def __init__(self, tsp_registry: TSPRegistry) -> None:
        super().__init__(tsp_registry)
        self._anchors: dict[object, TrustAnchor | None] = {}
        #: listed CAs by subject name, built on first use (the registry is complete by then)
        self._by_name: dict[str, list[Authority]] | None = None

    def as_trust_anchor(self, authority: Authority) -> TrustAnchor | None:
        key = authority.hashable
        try:
            return self._anchors[key]
        except KeyError:
            pass
        anchor = super().as_trust_anchor(authority)
        if anchor is not None:
            quals = anchor.trust_qualifiers
            anchor = TrustAnchor(
                authority, quals=TrustQualifiers(trusted_service_type=quals.trusted_service_type)
            )
        self._anchors[key] = anchor
        return anchor

    def _authorities_named(self, name: asn1_x509.Name) -> list[Authority]:
        if self._by_name is None:
            index: dict[str, list[Authority]] = {}
            for authority in self.tsp_registry.known_certificate_authorities:
                index.setdefault(authority.name.hashable, []).append(authority)
            self._by_name = index
        return self._by_name.get(name.hashable, [])

    def find_potential_issuers(
        self, cert: asn1_x509.Certificate
    ) -> Generator[TrustAnchor, None, None]:
        for authority in self._authorities_named(cert.issuer):
            if authority.is_potential_issuer_of(cert):
                anchor = self.as_trust_anchor(authority)
                if anchor is not None:
                    yield anchor


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
    #: pointed-to lists that were refused (broken or unknown signature, unreadable)
    refused: tuple[RefusedList, ...] = ()
    #: territories a loaded LOTL points to for which no list was available
    missing_territories: tuple[str, ...] = ()
    _trust_manager: TSPTrustManager = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_trust_manager", _TLTrustManager(self.registry))

    @property
    def trust_manager(self) -> TSPTrustManager:
        return self._trust_manager

    def to_dict(self) -> dict[str, object]:
        return {
            "trusted_lists": [tl.to_dict() for tl in self.lists],
            "refused_lists": [r.to_dict() for r in self.refused],
            "missing_territories": list(self.missing_territories),
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


@dataclass(frozen=True)
class _Source:
    """A list to load: where it is read from, and its download URL when it came from the cache."""

    path: str
    url: str = ""


@dataclass(frozen=True)
class _Peek:
    """What a list says about itself before its signature is checked (used only for routing)."""

    is_lotl: bool
    territory: str


def _peek(raw: bytes, path: str) -> _Peek:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(raw, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise TrustListError(f"The trusted list {path} is not well-formed XML: {exc}.") from exc
    if root.tag != f"{{{_TSL_NS}}}TrustServiceStatusList":
        raise TrustListError(
            f"The trusted list {path} is not an ETSI TS 119 612 list (root element {root.tag})."
        )
    tsl_type = root.findtext(f"{{{_TSL_NS}}}SchemeInformation/{{{_TSL_NS}}}TSLType") or ""
    territory = root.findtext(f"{{{_TSL_NS}}}SchemeInformation/{{{_TSL_NS}}}SchemeTerritory") or ""
    return _Peek(tsl_type.strip().endswith("listofthelists"), territory.strip())


def _verify_signed(
    text: str, candidates: list[asn1_x509.Certificate], path: str
) -> tuple[str, asn1_x509.Certificate]:
    """The signed list content and the certificate that verified it (newest candidate first).

    :raises TrustListSignatureError: no candidate verifies the list's signature.
    """
    problems: list[str] = []
    for cert in sorted(candidates, key=lambda c: c.not_valid_before, reverse=True):
        try:
            return _validate_and_extract_tl_data(text, cert, None), cert
        except SignatureValidationError as exc:
            problems.append(exc.failure_message.splitlines()[0])
    detail = problems[0] if problems else "no certificate to check it with"
    raise TrustListSignatureError(
        f"The trusted list {path} is refused: its signature does not verify against any of"
        f" the {len(candidates)} allowed signer certificate(s) ({detail})."
    )


def _count(registry: TSPRegistry) -> int:
    return len(list(registry.known_certificate_authorities)) + len(
        list(registry.known_timestamp_authorities)
    )


def _add_to_registry(signed_text: str, registry: TSPRegistry, path: str) -> int:
    before = _count(registry)
    try:
        _, errors = trust_list_to_registry_unsafe(signed_text, registry)
    except Exception as exc:  # noqa: BLE001 - the parser raises many kinds of errors
        raise TrustListError(f"The trusted list {path} cannot be read: {exc}.") from exc
    for err in errors:
        log.warning("trusted list %s: a service was skipped: %s", path, err)
    return _count(registry) - before


def _sources(settings: TrustSettings) -> list[_Source]:
    sources = [_Source(p) for p in settings.trusted_lists]
    if settings.cache_dir:
        for entry in read_cache(settings.cache_dir):
            sources.append(_Source(str(Path(settings.cache_dir) / entry.file), entry.url))
    return sources


def _decode(raw: bytes, path: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TrustListError(f"The trusted list {path} is not UTF-8 XML.") from exc


def _pointer_for(
    pointers: list[TLReference], source: _Source, territory: str
) -> TLReference | None:
    if source.url:
        for ref in pointers:
            if ref.location_uri == source.url:
                return ref
    if territory:
        for ref in pointers:
            if ref.territory.casefold() == territory.casefold():
                return ref
    return None


def load_trust(settings: TrustSettings) -> TrustContext:
    """Verify and load the trusted lists (national TLs, LOTLs and the TLs they point to).

    :raises TrustConfigError: no list or no TL signer configured, or a file is unreadable.
    :raises TrustListSignatureError: a directly configured list (or a LOTL) is unsigned,
        wrongly signed or signed by a certificate that is not among the configured TL signers.
    :raises TrustListError: a directly configured list cannot be parsed.
    """
    sources = _sources(settings)
    if not sources:
        raise TrustConfigError(
            "No trusted list is configured: set trust.trusted_lists (or pass --trusted-list),"
            " or fetch them with `podatelna trust refresh`."
        )
    if not settings.tl_signers:
        raise TrustConfigError(
            "No TL-signer certificate is configured: set trust.tl_signers (or pass --tl-signer);"
            " trusted lists are never used without checking their signature."
        )
    signers = _load_tl_signers(settings.tl_signers)
    registry = TSPRegistry()
    loaded: list[LoadedList] = []
    refused: list[RefusedList] = []

    # Read and route every list first: LOTLs must be verified before the lists they point to.
    read: list[tuple[_Source, bytes, str, _Peek]] = []
    for source in sources:
        raw = _read(source.path, "trusted list")
        text = _decode(raw, source.path)
        read.append((source, raw, text, _peek(raw, source.path)))

    pointers: list[TLReference] = []
    for source, raw, text, peek in read:
        if not peek.is_lotl:
            continue
        signed, cert = _verify_signed(text, signers, source.path)
        try:
            lotl = parse_lotl_unsafe(signed)
        except Exception as exc:  # noqa: BLE001 - the parser raises many kinds of errors
            raise TrustListError(f"The LOTL {source.path} cannot be read: {exc}.") from exc
        pointers.extend(ref for ref in lotl.references if LOTL_RULE not in ref.scheme_rules)
        loaded.append(
            LoadedList(
                path=source.path,
                sha256=hashlib.sha256(raw).hexdigest(),
                signer_subject=cert.subject.human_friendly,
                services=0,
                kind="LOTL",
                territory=peek.territory,
            )
        )

    covered: set[str] = set()
    for source, raw, text, peek in read:
        if peek.is_lotl:
            continue
        ref = _pointer_for(pointers, source, peek.territory)
        if ref is None:
            # A national list configured on its own: the operator's TL signers decide.
            signed, cert = _verify_signed(text, signers, source.path)
            services = _add_to_registry(signed, registry, source.path)
            verified_by = "tl_signers"
        else:
            try:
                if not ref.tlso_certs:
                    raise TrustListSignatureError(
                        f"The trusted list {source.path} is refused: the LOTL gives no"
                        f" certificate to verify the {ref.territory} list with."
                    )
                signed, cert = _verify_signed(text, ref.tlso_certs, source.path)
                if peek.territory and peek.territory.casefold() != ref.territory.casefold():
                    raise TrustListSignatureError(
                        f"The trusted list {source.path} is refused: it says it is the"
                        f" {peek.territory} list but was found at the LOTL's location for"
                        f" {ref.territory}."
                    )
                services = _add_to_registry(signed, registry, source.path)
            except TrustListError as exc:
                reason = str(exc)
                if isinstance(exc, TrustListSignatureError):
                    reason += f" The LOTL gives these signers for {ref.territory}: " + "; ".join(
                        c.subject.human_friendly for c in ref.tlso_certs
                    )
                log.warning("%s", reason)
                refused.append(RefusedList(source.path, ref.territory, reason))
                continue
            verified_by = "LOTL"
            covered.add(ref.territory.casefold())
        loaded.append(
            LoadedList(
                path=source.path,
                sha256=hashlib.sha256(raw).hexdigest(),
                signer_subject=cert.subject.human_friendly,
                services=services,
                territory=peek.territory,
                verified_by=verified_by,
            )
        )
    refused_territories = {r.territory.casefold() for r in refused}
    missing = sorted(
        {
            ref.territory
            for ref in pointers
            if ref.territory.casefold() not in covered | refused_territories
        }
    )
    crls, ocsps = _load_revocation(settings.revocation)
    return TrustContext(
        registry=registry,
        lists=tuple(loaded),
        crls=tuple(crls),
        ocsps=tuple(ocsps),
        allow_fetching=settings.allow_fetching,
        refused=tuple(refused),
        missing_territories=tuple(missing),
    )
