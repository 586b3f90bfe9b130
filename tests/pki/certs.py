"""Certificates, keys and CRLs of the test PKI, built with ``cryptography`` (no fixtures).

Everything is dated on a fixed timeline (see :mod:`tests.pki.timeline`), so verdicts never depend
on the wall clock. Keys are ECDSA P-256 (fast to generate, fine for every format under test).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.ades import qualified_asn1

QC_STATEMENTS_OID = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3")


@dataclass(frozen=True)
class Issued:
    """A certificate with its private key (both in cryptography's and asn1crypto's form)."""

    name: str
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def cert_der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def asn1_cert(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.cert_der)

    @property
    def asn1_key(self) -> asn1_keys.PrivateKeyInfo:
        return asn1_keys.PrivateKeyInfo.load(
            self.key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


def qc_statements_der(*, compliance: bool, sscd: bool, qc_type: str | None) -> bytes:
    """DER of a QCStatements extension value (ETSI EN 319 412-5)."""
    statements = []
    if compliance:
        statements.append({"statement_id": "qc_compliance"})
    if sscd:
        statements.append({"statement_id": "qc_sscd"})
    if qc_type:
        statements.append(
            {
                "statement_id": "qc_type",
                "statement_info": qualified_asn1.QcCertificateType([qc_type]),
            }
        )
    value = qualified_asn1.QcStatements(statements)
    return bytes(value.dump())


def _name(cn: str, *, org: str | None = None, org_id: str | None = None, person: bool = False):
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CZ")]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    if org_id:
        attrs.append(x509.NameAttribute(x509.ObjectIdentifier("2.5.4.97"), org_id))
    if person:
        given, _, surname = cn.partition(" ")
        attrs.append(x509.NameAttribute(NameOID.GIVEN_NAME, given))
        attrs.append(x509.NameAttribute(NameOID.SURNAME, surname or given))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def make_root(name: str, cn: str, not_before: datetime, not_after: datetime) -> Issued:
    key = new_key()
    subject = _name(cn, org="Test PKI s.r.o.")
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(name, cert, key)


def make_leaf(
    name: str,
    issuer: Issued,
    subject: x509.Name,
    not_before: datetime,
    not_after: datetime,
    *,
    digital_signature: bool = True,
    non_repudiation: bool = True,
    qc: bytes | None = None,
    eku: list[x509.ObjectIdentifier] | None = None,
    crl_url: str | None = None,
    rsa_key: bool = False,
) -> Issued:
    key = rsa.generate_private_key(65537, 2048) if rsa_key else new_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=digital_signature,
                content_commitment=non_repudiation,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )
    if crl_url:
        builder = builder.add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(crl_url)],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        )
    if qc is not None:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(QC_STATEMENTS_OID, qc), critical=False
        )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    cert = builder.sign(issuer.key, hashes.SHA256())
    return Issued(name, cert, key)


def person(cn: str) -> x509.Name:
    return _name(cn, person=True)


def legal_person(cn: str, org_id: str) -> x509.Name:
    return _name(cn, org=cn, org_id=org_id)


def plain(cn: str) -> x509.Name:
    return _name(cn, org="Test PKI s.r.o.")


def make_crl(
    issuer: Issued,
    revoked: list[tuple[x509.Certificate, datetime]],
    this_update: datetime,
    next_update: datetime,
) -> bytes:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )
    for cert, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(when)
            .build()
        )
    crl = builder.sign(issuer.key, hashes.SHA256())
    return crl.public_bytes(serialization.Encoding.DER)


TIMESTAMPING = ExtendedKeyUsageOID.TIME_STAMPING
DAY = timedelta(days=1)
