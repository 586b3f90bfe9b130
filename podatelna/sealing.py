"""Wiring of the seal: the key, the timestamp source and the PAdES level, from the settings.

Embedded default (``[seal] kind = "pkcs12"`` with no path, ``[timestamp] kind = "local"``):
a development PKI is created at first start under ``<data_dir>/seal/`` (root CA, seal
certificate, local TSA, CRL) and a warning says it is NOT FOR PRODUCTION. Build the sealer
once per process and reuse it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from signing.keys import (
    EmbeddedPki,
    SealKeyError,
    ensure_embedded_pki,
    load_pem_certs,
    load_pkcs12,
    open_pkcs11_signer,
)
from signing.seal import Sealer
from signing.tsa import HttpTimestamper, LocalTimestamper, TimestampError

from .clock import Clock, SystemClock
from .config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SealWiring:
    """What the application needs: the sealer, its timestamp source, and the PKI if embedded."""

    sealer: Sealer
    timestamper: LocalTimestamper | HttpTimestamper
    embedded: EmbeddedPki | None


def seal_dir(settings: Settings) -> Path:
    return settings.data_path / "seal"


def _embedded(settings: Settings, clock: Clock) -> EmbeddedPki:
    return ensure_embedded_pki(
        seal_dir(settings),
        now=clock.now(),
        password=settings.seal.pkcs12_password,
        authority_name=settings.office.name,
    )


def build_timestamper(
    settings: Settings, *, clock: Clock | None = None, pki: EmbeddedPki | None = None
) -> LocalTimestamper | HttpTimestamper:
    ts = settings.timestamp
    clock = clock or SystemClock()
    if ts.kind == "http":
        if not ts.url:
            raise TimestampError("[timestamp] kind is http but no url is set.")
        return HttpTimestamper(
            ts.url, timeout=ts.timeout_seconds, username=ts.username, password=ts.password
        )
    pki = pki or _embedded(settings, clock)
    log.warning("Timestamps come from the local development TSA: NOT FOR PRODUCTION.")
    return LocalTimestamper(pki.tsa_cert, pki.tsa_key, [pki.root], clock=clock.now)


def build_wiring(settings: Settings, *, clock: Clock | None = None) -> SealWiring:
    clock = clock or SystemClock()
    seal = settings.seal
    pki: EmbeddedPki | None = None
    roots: list[x509.Certificate] = []
    crls: list[bytes] = []
    chain = load_pem_certs(seal.chain_pem)
    needs_embedded = (seal.kind == "pkcs12" and not seal.pkcs12_path) or (
        settings.timestamp.kind == "local"
    )
    if needs_embedded:
        pki = _embedded(settings, clock)
        roots.append(pki.root)
        crls.append(pki.crl_der())
    if seal.kind == "pkcs11":
        if not (seal.pkcs11_module and seal.pkcs11_token_label and seal.pkcs11_key_label):
            raise SealKeyError(
                "[seal] kind is pkcs11 but pkcs11_module, pkcs11_token_label or "
                "pkcs11_key_label is not set."
            )
        signer = open_pkcs11_signer(
            seal.pkcs11_module,
            token_label=seal.pkcs11_token_label,
            pin=seal.pkcs11_pin,
            key_label=seal.pkcs11_key_label,
            cert_label=seal.pkcs11_cert_label,
            chain=chain,
        )
    else:
        assert pki is not None or seal.pkcs12_path
        path = seal.pkcs12_path or str(pki.seal_p12)  # type: ignore[union-attr]
        signer = load_pkcs12(path, seal.pkcs12_password)
        chain = chain or list(signer.chain)
    for path in settings.trust.revocation:  # local CRL files (DER or PEM) for B-LT
        data = Path(path).read_bytes()
        if data.startswith(b"-----BEGIN"):
            try:
                data = x509.load_pem_x509_crl(data).public_bytes(serialization.Encoding.DER)
            except ValueError:
                continue  # not a CRL (an OCSP response file): not used for sealing
        crls.append(data)
    # the trust root of the seal's own chain: the self-signed certificate in it
    for cert in chain:
        if cert.issuer == cert.subject and cert not in roots:
            roots.append(cert)
    timestamper = build_timestamper(settings, clock=clock, pki=pki)
    sealer = Sealer(
        signer,
        level=seal.level,
        timestamper=timestamper,
        trust_roots=roots,
        crls=crls,
        location=settings.office.address,
    )
    return SealWiring(sealer=sealer, timestamper=timestamper, embedded=pki)


def build_sealer(settings: Settings, *, clock: Clock | None = None) -> Sealer:
    """The application's ``Sealer`` (build once per process; it is thread-safe)."""
    return build_wiring(settings, clock=clock).sealer


def trust_root_pem(wiring: SealWiring) -> bytes:
    """PEM of the embedded development root (for ``podatelna verify`` of our own receipts)."""
    if wiring.embedded is None:
        return b""
    return wiring.embedded.root.public_bytes(serialization.Encoding.PEM)
