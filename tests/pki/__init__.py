"""A test PKI built by the test suite itself: no downloaded fixtures, frozen time.

``build_pki(tmp_dir)`` creates, on the fixed timeline of :mod:`tests.pki.timeline`:

- a TL signer and a trusted list (ETSI TS 119 612, XAdES enveloped signature, inclusive C14N)
  listing a qualified CA (CA/QC, granted), a CA whose CA/QC service was withdrawn after the
  signatures, and a qualified TSA (TSA/QTST, granted, QcCompliance in its certificate);
- a CA that is not on the list;
- signers (see :data:`SIGNERS`): a qualified e-signature on a QSCD, a qualified certificate without
  QSCD, a qualified seal, a non-qualified certificate, an expired one, one revoked before signing,
  one revoked after a timestamped signature, a nonRepudiation-only key usage, one from the
  unlisted CA and one from the withdrawn CA;
- CRLs of every CA, as local revocation files.

Other engineers use it to send signed filings through the pipeline::

    pki = build_pki(tmp_path)            # or shared_pki() for one per test session
    signed = pki.sign_pdf("qes", pdf_bytes)
    p7s = pki.sign_cades_detached("qseal", data)
    trust = load_trust(pki.trust_settings())
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path

from lxml import etree
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation.qualified.tsp import QTST_URI
from pyhanko_certvalidator.registry import SimpleCertificateStore
from signxml import SignatureMethod
from signxml.algorithms import CanonicalizationMethod
from signxml.xades import XAdESSigner

from . import timeline as t
from .certs import (
    TIMESTAMPING,
    Issued,
    legal_person,
    make_crl,
    make_leaf,
    make_root,
    person,
    plain,
    qc_statements_der,
)
from .trusted_list import build_lotl, build_trusted_list, service

__all__ = ["SIGNERS", "TestPKI", "build_pki", "sample_pdf", "sample_xml", "shared_pki", "t"]

#: signer name -> what it is
SIGNERS: dict[str, str] = {
    "qes": "qualified certificate for e-signatures, key on a QSCD",
    "qc_no_qscd": "qualified certificate for e-signatures, no QSCD",
    "qseal": "qualified certificate for e-seals, key on a QSCD (legal person)",
    "nonqualified": "certificate without QC statements from the qualified CA",
    "expired": "qualified certificate that expired before the signature",
    "revoked_before": "qualified certificate revoked before the signature",
    "revoked_after": "qualified certificate revoked after the timestamped signature",
    "nonrep_only": "qualified certificate whose key usage is nonRepudiation only",
    "unlisted": "certificate from a CA that is not on the trusted list",
    "withdrawn": "qualified certificate from a CA whose service was withdrawn after signing",
}


@dataclass
class TestPKI:
    __test__ = False  # not a pytest class

    root: Path
    tl_signer: Issued
    rogue_tl_signer: Issued
    qca: Issued
    other_ca: Issued
    withdrawn_ca: Issued
    tsa: Issued
    signers: dict[str, Issued]
    tl_path: Path
    tl_signer_path: Path
    crl_paths: list[Path]
    issuers: dict[str, Issued] = field(default_factory=dict)
    #: operators of the two national lists a test LOTL points to (see :meth:`lotl_set`)
    tl_operators: dict[str, Issued] = field(default_factory=dict)

    # -- trust --------------------------------------------------------------------------------

    def trust_settings(self, **changes: object):
        """A :class:`signing.TrustSettings` for this PKI (TL file, TL signer, CRLs)."""
        from signing import TrustSettings

        base = TrustSettings(
            trusted_lists=(str(self.tl_path),),
            tl_signers=(str(self.tl_signer_path),),
            revocation=tuple(str(p) for p in self.crl_paths),
        )
        import dataclasses

        return dataclasses.replace(base, **changes)

    def write_trusted_list(self, name: str, *, signer: Issued | None) -> Path:
        """Write this PKI's trusted list again, signed by ``signer`` (or unsigned)."""
        path = self.root / name
        path.write_bytes(_trusted_list(self, signer))
        return path

    def lotl_set(
        self,
        base_url: str = "http://tl.invalid",
        *,
        signers: dict[str, Issued | None] | None = None,
        lotl_signer: Issued | None | str = "default",
    ) -> dict[str, bytes]:
        """A LOTL (signed by the TL signer) and the two national lists it points to.

        ``CZ`` (signed by ``tl_operators["CZ"]``) lists this PKI's qualified CA, withdrawn CA
        and TSA, as :attr:`tl_path` does; ``SK`` (signed by ``tl_operators["SK"]``) lists the CA
        that is *not* on the CZ list, so the ``unlisted`` signer is qualified only when the SK
        list loads. ``signers`` overrides who signs a national list (``None``: unsigned).
        Returns ``{"lotl.xml": ..., "cz.xml": ..., "sk.xml": ...}``; the LOTL points to
        ``<base_url>/cz.xml`` and ``<base_url>/sk.xml``.
        """
        chosen = {**self.tl_operators, **(signers or {})}
        lotl_by = self.tl_signer if lotl_signer == "default" else lotl_signer
        assert not isinstance(lotl_by, str)
        sk_services = [service("Test SK Qualified CA", self.other_ca, granted_from=t.PKI_START)]
        pointers = [
            ("CZ", f"{base_url}/cz.xml", [self.tl_operators["CZ"]]),
            ("SK", f"{base_url}/sk.xml", [self.tl_operators["SK"]]),
        ]
        return {
            "lotl.xml": build_lotl(pointers, t.PKI_START, lotl_by, location=f"{base_url}/lotl.xml"),
            "cz.xml": _trusted_list(self, chosen["CZ"], territory="CZ"),
            "sk.xml": build_trusted_list(
                sk_services, issued=t.PKI_START, signer=chosen["SK"], territory="SK"
            ),
        }

    def write_lotl_set(self, directory: Path, **kwargs: object) -> dict[str, Path]:
        """Write :meth:`lotl_set` into ``directory``; returns the paths by name."""
        directory.mkdir(parents=True, exist_ok=True)
        out = {}
        for name, data in self.lotl_set(**kwargs).items():  # type: ignore[arg-type]
            (directory / name).write_bytes(data)
            out[name] = directory / name
        return out

    # -- signing ------------------------------------------------------------------------------

    def _signer(self, name: str) -> signers.SimpleSigner:
        who = self.signers[name]
        issuer = self.issuers[name]
        return signers.SimpleSigner(
            signing_cert=who.asn1_cert,
            signing_key=who.asn1_key,
            cert_registry=SimpleCertificateStore.from_certs([issuer.asn1_cert]),
        )

    def timestamper(self, at: datetime = t.SIGN_TIME) -> DummyTimeStamper:
        return DummyTimeStamper(
            tsa_cert=self.tsa.asn1_cert,
            tsa_key=self.tsa.asn1_key,
            certs_to_embed=SimpleCertificateStore.from_certs([self.tsa.asn1_cert]),
            fixed_dt=at,
        )

    def sign_pdf(
        self,
        signer: str,
        pdf_bytes: bytes,
        *,
        timestamp: bool = True,
        field_name: str = "Signature1",
    ) -> bytes:
        """PAdES B-T (B-B with ``timestamp=False``) signature over the whole PDF."""
        writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes))
        meta = signers.PdfSignatureMetadata(
            field_name=field_name,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
        )
        pdf_signer = signers.PdfSigner(
            meta,
            signer=self._signer(signer),
            timestamper=self.timestamper() if timestamp else None,
        )
        out = pdf_signer.sign_pdf(writer)
        return bytes(out.getvalue())

    def _cms(self, signer: str, data: bytes, *, detached: bool, timestamp: bool) -> bytes:
        coro = self._signer(signer).async_sign_general_data(
            data,
            "sha256",
            detached=detached,
            use_cades=True,
            timestamper=self.timestamper() if timestamp else None,
            signed_attr_settings=PdfCMSSignedAttributes(signing_time=t.SIGN_TIME),
        )
        return bytes(asyncio.run(coro).dump())

    def sign_cades_detached(self, signer: str, data: bytes, *, timestamp: bool = True) -> bytes:
        """A detached CAdES signature (the ``.p7s`` file) over ``data``."""
        return self._cms(signer, data, detached=True, timestamp=timestamp)

    def sign_cades_enveloping(self, signer: str, data: bytes, *, timestamp: bool = True) -> bytes:
        """An enveloping CAdES signature (the ``.p7m`` file) carrying ``data``."""
        return self._cms(signer, data, detached=False, timestamp=timestamp)

    def sign_xades(self, signer: str, xml_bytes: bytes) -> bytes:
        """An enveloped XAdES-B-B signature over the whole XML document (inclusive C14N 1.0)."""
        who = self.signers[signer]
        tree = etree.fromstring(xml_bytes)
        signed = XAdESSigner(
            signature_algorithm=SignatureMethod.ECDSA_SHA256,
            c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
        ).sign(tree, key=who.key, cert=[who.cert_pem.decode()], always_add_key_value=False)
        return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


def sample_pdf(text: str = "Zadost o vydani rozhodnuti") -> bytes:
    """A one-page PDF to sign."""
    from reportlab.pdfgen import canvas

    buf = BytesIO()
    c = canvas.Canvas(buf, invariant=1, pageCompression=0)
    c.drawString(72, 720, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def sample_xml() -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<form xmlns="urn:podatelna:test:form:1" Id="form">'
        b"<subject>Zadost</subject><amount>100</amount></form>"
    )


def _trusted_list(pki: TestPKI, signer: Issued | None, territory: str | None = None) -> bytes:
    services = [
        service("Test Qualified CA", pki.qca, granted_from=t.PKI_START),
        service(
            "Test Withdrawn CA",
            pki.withdrawn_ca,
            granted_from=t.PKI_START,
            withdrawn_at=t.WITHDRAWN_AT,
        ),
        service("Test Qualified TSA", pki.tsa, service_type=QTST_URI, granted_from=t.PKI_START),
    ]
    return build_trusted_list(services, issued=t.PKI_START, signer=signer, territory=territory)


def build_pki(tmp_dir: Path | str) -> TestPKI:
    """Build the whole test PKI and write its public files under ``tmp_dir``."""
    root = Path(tmp_dir)
    root.mkdir(parents=True, exist_ok=True)
    start, end = t.PKI_START, t.PKI_END
    tl_signer = make_root("tl_signer", "Test TL Operator", start, end)
    rogue = make_root("rogue_tl_signer", "Rogue TL Operator", start, end)
    qca = make_root("qca", "Test Qualified CA", start, end)
    other = make_root("other_ca", "Test Unlisted CA", start, end)
    wca = make_root("withdrawn_ca", "Test Withdrawn CA", start, end)
    tsa = make_leaf(
        "tsa",
        qca,
        plain("Test Qualified TSA"),
        start,
        end,
        non_repudiation=False,
        qc=qc_statements_der(compliance=True, sscd=False, qc_type=None),
        eku=[TIMESTAMPING],
        rsa_key=True,  # pyHanko's DummyTimeStamper signs with RSA only
    )

    def crl_url(ca: Issued) -> str:
        return f"http://pki.invalid/{ca.name}.crl"

    qes = qc_statements_der(compliance=True, sscd=True, qc_type="qct_esign")
    signers_: dict[str, Issued] = {}
    issuers: dict[str, Issued] = {}

    def leaf(name, issuer, subject, qc, *, not_after=end, ds=True, nr=True):
        signers_[name] = make_leaf(
            name,
            issuer,
            subject,
            start,
            not_after,
            digital_signature=ds,
            non_repudiation=nr,
            qc=qc,
            crl_url=crl_url(issuer),
        )
        issuers[name] = issuer

    leaf("qes", qca, person("Jana Novakova"), qes)
    leaf(
        "qc_no_qscd",
        qca,
        person("Petr Svoboda"),
        qc_statements_der(compliance=True, sscd=False, qc_type="qct_esign"),
    )
    leaf(
        "qseal",
        qca,
        legal_person("Firma a.s.", "NTRCZ-12345678"),
        qc_statements_der(compliance=True, sscd=True, qc_type="qct_eseal"),
    )
    leaf("nonqualified", qca, person("Karel Dvorak"), None)
    leaf("expired", qca, person("Eva Cerna"), qes, not_after=t.EXPIRED_END)
    leaf("revoked_before", qca, person("Tomas Kral"), qes)
    leaf("revoked_after", qca, person("Lucie Mala"), qes)
    leaf("nonrep_only", qca, person("Adam Vesely"), qes, ds=False, nr=True)
    leaf("unlisted", other, person("Olga Horakova"), qes)
    leaf("withdrawn", wca, person("Filip Marek"), qes)

    crls = {
        "qca": make_crl(
            qca,
            [
                (signers_["revoked_before"].cert, t.REVOKED_BEFORE),
                (signers_["revoked_after"].cert, t.REVOKED_AFTER),
            ],
            t.CRL_ISSUED,
            t.CRL_NEXT,
        ),
        "other_ca": make_crl(other, [], t.CRL_ISSUED, t.CRL_NEXT),
        "withdrawn_ca": make_crl(wca, [], t.CRL_ISSUED, t.CRL_NEXT),
    }
    crl_paths = []
    for name, der in crls.items():
        p = root / f"{name}.crl"
        p.write_bytes(der)
        crl_paths.append(p)
    tl_signer_path = root / "tl-signer.pem"
    tl_signer_path.write_bytes(tl_signer.cert_pem)
    (root / "rogue-tl-signer.pem").write_bytes(rogue.cert_pem)
    for who in (qca, other, wca, tsa, *signers_.values()):
        (root / f"{who.name}.pem").write_bytes(who.cert_pem)
    pki = TestPKI(
        root=root,
        tl_signer=tl_signer,
        rogue_tl_signer=rogue,
        qca=qca,
        other_ca=other,
        withdrawn_ca=wca,
        tsa=tsa,
        signers=signers_,
        tl_path=root / "tl.xml",
        tl_signer_path=tl_signer_path,
        crl_paths=crl_paths,
        issuers=issuers,
        tl_operators={
            "CZ": make_root("cz_tl_operator", "Test CZ TL Operator", start, end),
            "SK": make_root("sk_tl_operator", "Test SK TL Operator", start, end),
        },
    )
    pki.tl_path.write_bytes(_trusted_list(pki, tl_signer))
    return pki


_SHARED: TestPKI | None = None


def shared_pki() -> TestPKI:
    """One PKI per test session (built on first use in a temporary directory)."""
    global _SHARED
    if _SHARED is None:
        _SHARED = build_pki(tempfile.mkdtemp(prefix="podatelna-pki-"))
    return _SHARED
