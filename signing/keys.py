"""Seal keys: a PKCS#12 file (with the embedded development PKI) or a PKCS#11 token.

The embedded default creates, at first start, a small self-issued PKI under
``<data_dir>/seal/``: a local root CA, the seal certificate, a timestamp authority certificate
and a CRL the root issues (so that PAdES B-LT has revocation data to embed). Every subject says
``NOT FOR PRODUCTION`` and loading it logs a warning: a seal made with it proves nothing to
anyone outside this machine.

Keys are loaded once and kept: pyHanko's ``SimpleSigner`` re-parses its key for every signature
(~40 ms for RSA), :class:`KeptKeySigner` does not.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .errors import SigningError

log = logging.getLogger(__name__)

NOT_FOR_PRODUCTION = "NOT FOR PRODUCTION"
CRL_VALIDITY = timedelta(days=30)
CRL_REFRESH_MARGIN = timedelta(days=2)
PrivateKey = EllipticCurvePrivateKey | RSAPrivateKey


class SealKeyError(SigningError):
    """The seal key or certificate cannot be loaded (missing file, wrong password, no key)."""

    code = "seal_key_invalid"


# -- a signer that keeps its key loaded ---------------------------------------------------------


class KeptKeySigner(SimpleSigner):
    """pyHanko ``SimpleSigner`` that parses its private key once, not at every signature."""

    def __init__(
        self,
        key: PrivateKey,
        cert: x509.Certificate,
        chain: list[x509.Certificate],
    ) -> None:
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        registry = SimpleCertificateStore.from_certs([to_asn1(c) for c in chain])
        super().__init__(
            signing_cert=to_asn1(cert),
            signing_key=asn1_keys.PrivateKeyInfo.load(der),
            cert_registry=registry,
        )
        self.key = key
        self.chain = tuple(chain)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        hash_algo = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "ecdsa" and isinstance(self.key, EllipticCurvePrivateKey):
            return self.key.sign(data, ECDSA(hash_algo))
        if mechanism == "rsassa_pkcs1v15" and isinstance(self.key, RSAPrivateKey):
            return self.key.sign(data, PKCS1v15(), hash_algo)
        return super().sign_raw(data, digest_algorithm)  # type: ignore[no-any-return]


def to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def load_pkcs12(path: str | os.PathLike[str], password: str = "") -> KeptKeySigner:
    """Load a PKCS#12 file holding the seal key, its certificate and (optionally) its chain."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise SealKeyError(f"The seal key file {p} cannot be read: {exc.strerror}.") from exc
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(
            data, password.encode() if password else None
        )
    except ValueError as exc:
        raise SealKeyError(
            f"The seal key file {p} is not a PKCS#12 file or its password is wrong ({exc})."
        ) from exc
    if key is None or cert is None:
        raise SealKeyError(f"The PKCS#12 file {p} holds no private key with a certificate.")
    if not isinstance(key, EllipticCurvePrivateKey | RSAPrivateKey):
        raise SealKeyError(f"The key in {p} is neither RSA nor EC; other key types are refused.")
    return KeptKeySigner(key, cert, list(extra))


def load_pem_certs(paths: tuple[str, ...] | list[str]) -> list[x509.Certificate]:
    out: list[x509.Certificate] = []
    for path in paths:
        try:
            out.extend(x509.load_pem_x509_certificates(Path(path).read_bytes()))
        except (OSError, ValueError) as exc:
            raise SealKeyError(f"The certificate file {path} cannot be read: {exc}.") from exc
    return out


# -- PKCS#11 ----------------------------------------------------------------------------------


def open_pkcs11_signer(
    module: str,
    *,
    token_label: str,
    pin: str,
    key_label: str,
    cert_label: str = "",
    chain: list[x509.Certificate] | None = None,
    raw_mechanism: bool = True,
):  # type: ignore[no-untyped-def]
    """A pyHanko ``PKCS11Signer`` on an open session (kept open for the life of the signer).

    With ``raw_mechanism`` (default) the digest is computed here and the token only signs it
    (``CKM_ECDSA`` / ``CKM_RSA_PKCS``): SoftHSM2 and many HSMs lack the hash-and-sign
    mechanisms for EC keys. PKCS#11 logins are per process and token: when this process is
    already logged in (another signer open), the new session shares that login.
    """
    from pkcs11 import PKCS11Error, UserAlreadyLoggedIn  # python-pkcs11
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

    criteria = TokenCriteria(label=token_label)
    try:
        try:
            session = open_pkcs11_session(module, token_criteria=criteria, user_pin=pin)
        except UserAlreadyLoggedIn:
            session = open_pkcs11_session(module, token_criteria=criteria, user_pin=None)
    except (PKCS11Error, OSError, RuntimeError) as exc:
        raise SealKeyError(
            f"The PKCS#11 token {token_label!r} cannot be opened with module {module}: "
            f"{type(exc).__name__} {exc}."
        ) from exc
    return PKCS11Signer(
        session,
        key_label=key_label,
        cert_label=cert_label or key_label,
        ca_chain=[to_asn1(c) for c in chain or []],
        use_raw_mechanism=raw_mechanism,
    )


# -- the embedded development PKI -------------------------------------------------------------


@dataclass(frozen=True)
class EmbeddedPki:
    """Paths and certificates of the development PKI under ``<data_dir>/seal/``."""

    directory: Path
    root: x509.Certificate
    seal_p12: Path
    tsa_cert: x509.Certificate
    tsa_key: PrivateKey
    crl_path: Path

    @property
    def root_pem(self) -> Path:
        return self.directory / "root-ca.pem"

    def crl_der(self) -> bytes:
        return self.crl_path.read_bytes()


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CZ"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"podatelna ({NOT_FOR_PRODUCTION})"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{cn} - {NOT_FOR_PRODUCTION}"),
        ]
    )


def _cert(
    subject: x509.Name,
    key: PrivateKey,
    issuer: x509.Name,
    issuer_key: PrivateKey,
    now: datetime,
    years: int,
    *,
    ca: bool,
    eku: x509.ObjectIdentifier | None = None,
    crl_url: str | None = None,
) -> x509.Certificate:
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca and eku is None,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage([eku]), critical=True)
    if crl_url:
        b = b.add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [x509.UniformResourceIdentifier(crl_url)], None, None, None
                    )
                ]
            ),
            critical=False,
        )
    return b.sign(issuer_key, hashes.SHA256())


def issue_crl(
    root: x509.Certificate, root_key: PrivateKey, now: datetime, revoked: tuple[int, ...] = ()
) -> x509.CertificateRevocationList:
    b = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root.subject)
        .last_update(now - timedelta(minutes=5))
        .next_update(now + CRL_VALIDITY)
        .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
    )
    for serial in revoked:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(now - timedelta(minutes=5))
            .build()
        )
    return b.sign(root_key, hashes.SHA256())


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _pem_key(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load_key(path: Path) -> PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, EllipticCurvePrivateKey | RSAPrivateKey)
    return key


def ensure_embedded_pki(
    directory: str | os.PathLike[str],
    *,
    now: datetime,
    password: str = "",
    authority_name: str = "podatelna",
    key_type: str = "ec",
) -> EmbeddedPki:
    """Create the development PKI in ``directory`` if missing; re-issue the CRL when stale."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    root_pem, root_key_pem = d / "root-ca.pem", d / "root-ca.key.pem"
    seal_p12, tsa_pem, tsa_key_pem, crl_path = (
        d / "seal.p12",
        d / "tsa.pem",
        d / "tsa.key.pem",
        d / "root-ca.crl",
    )
    crl_url = "http://127.0.0.1/podatelna-dev-root-ca.crl"
    if not root_pem.exists():
        log.warning(
            "Creating a self-issued seal certificate and timestamp authority under %s: "
            "%s. Configure [seal] and [timestamp] with real ones.",
            d,
            NOT_FOR_PRODUCTION,
        )

        def new_key() -> PrivateKey:
            if key_type == "rsa":
                return rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return ec.generate_private_key(ec.SECP256R1())

        root_key, seal_key, tsa_key = new_key(), new_key(), new_key()
        root_name = _name("podatelna development root CA")
        root = _cert(root_name, root_key, root_name, root_key, now, 20, ca=True)
        seal = _cert(
            _name(f"{authority_name} electronic seal"),
            seal_key,
            root_name,
            root_key,
            now,
            10,
            ca=False,
            crl_url=crl_url,
        )
        tsa = _cert(
            _name("podatelna local timestamp authority"),
            tsa_key,
            root_name,
            root_key,
            now,
            10,
            ca=False,
            eku=ExtendedKeyUsageOID.TIME_STAMPING,
            crl_url=crl_url,
        )
        enc = (
            serialization.BestAvailableEncryption(password.encode())
            if password
            else serialization.NoEncryption()
        )
        _write_private(
            seal_p12,
            pkcs12.serialize_key_and_certificates(b"seal", seal_key, seal, [root], enc),
        )
        _write_private(tsa_key_pem, _pem_key(tsa_key))
        _write_private(root_key_pem, _pem_key(root_key))
        tsa_pem.write_bytes(tsa.public_bytes(serialization.Encoding.PEM))
        crl_path.write_bytes(
            issue_crl(root, root_key, now).public_bytes(serialization.Encoding.DER)
        )
        root_pem.write_bytes(root.public_bytes(serialization.Encoding.PEM))  # written last
    else:
        log.warning("Using the self-issued seal key under %s: %s.", d, NOT_FOR_PRODUCTION)
    root = x509.load_pem_x509_certificate(root_pem.read_bytes())
    crl = x509.load_der_x509_crl(crl_path.read_bytes())
    next_update = crl.next_update_utc
    if next_update is None or next_update - CRL_REFRESH_MARGIN < now:
        fresh = issue_crl(root, _load_key(root_key_pem), now)
        crl_path.write_bytes(fresh.public_bytes(serialization.Encoding.DER))
    return EmbeddedPki(
        directory=d,
        root=root,
        seal_p12=seal_p12,
        tsa_cert=x509.load_pem_x509_certificate(tsa_pem.read_bytes()),
        tsa_key=_load_key(tsa_key_pem),
        crl_path=crl_path,
    )
