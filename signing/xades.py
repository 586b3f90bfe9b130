"""XAdES enveloped in an XML form: core by signxml, trust and qualification as for PDF/CMS.

Threat model: the XML is untrusted. It is parsed without DTDs, entities or network access.
Before any cryptography the structure is checked: every ``Id``/``ID``/``id``/``xml:id`` value
must be unique (a duplicate makes "what was signed" ambiguous), and the signature must sign the
form itself: exactly one reference to the document root (``URI=""`` or ``#<root Id>``, only the
enveloped-signature and C14N transforms), every other reference pointing inside the signature
(SignedProperties, KeyInfo). A reference to a copy of the form hidden elsewhere (signature
wrapping) is ``TOTAL_FAILED`` / ``FORMAT_FAILURE``.

signxml then verifies the core only: the reference digests, the SignatureValue and the
SigningCertificate(V2) binding, with the signer certificate handed to it (so it builds no chain,
trusts no web roots and applies no key-usage rule; its own validity check is pointed at the
certificate's start of validity so that it decides nothing). The certificate path to a
trusted-list anchor, validity, revocation (local CRLs/OCSP of the :class:`TrustContext`), key
usage (nonRepudiation alone passes) and the qualification are decided by the same pyHanko trust
manager, validation spec and :class:`QualificationAssessor` as for PAdES/CAdES.

Signing time: a SignatureTimeStamp (over the canonical ds:SignatureValue, from a qualified TSA,
validated with pyHanko's timestamp validation) proves it: level B-T, a revocation of the signer
after that time does not hurt, and the CA/QC service status is read at that time. Without a
valid timestamp the signature is judged at the validation time (B-B, as for an untimestamped
PAdES/CAdES signature); the claimed XAdES SigningTime is reported but proves nothing.

Levels B-LT and B-LTA: certificate and revocation values embedded in the unsigned properties
are used for the validation, and archive timestamps are verified (see :mod:`signing.xades_ltv`
and :mod:`signing._ltv`).

Limits: one signature per document (more are reported as not verifiable); only the first
SignatureTimeStamp is evaluated; a signer certificate that expired before the validation time
stays INDETERMINATE even when a timestamp proves an earlier signature (the POE of timestamps is
not used to extend the validation into the past).
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESPassed, AdESSubIndic
from pyhanko.sign.validation import generic_cms
from pyhanko.sign.validation.ades import _operation_scoped_spec, ades_timestamp_validation
from pyhanko.sign.validation.policy_decl import (
    SignatureValidationSpec,
    bootstrap_validation_data_handlers,
)
from pyhanko.sign.validation.qualified.assess import QualificationAssessor
from pyhanko.sign.validation.qualified.q_status import QualificationResult
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator.authority import AuthorityWithCert
from signxml import InvalidDigest, InvalidInput, InvalidSignature
from signxml.exceptions import InvalidCertificate, SignXMLException
from signxml.verifier import SignatureConfiguration
from signxml.xades import XAdESVerifier

from . import _common, _ltv, xades_ltv
from ._spec import signature_spec
from .classify import classify, indication_of
from .report import TOTAL_PASSED, SignatureReport, TimestampInfo
from .trust import TrustContext

__all__ = ["looks_signed_xml", "verify_xml"]

DS_NS = b"http://www.w3.org/2000/09/xmldsig#"
_DS = "http://www.w3.org/2000/09/xmldsig#"
_XADES = "http://uri.etsi.org/01903/v1.3.2#"
_NS = {"ds": _DS, "xades": _XADES}
_ID_NAMES = {"Id", "ID", "id"}
_ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_C14N = {
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
    "http://www.w3.org/2006/12/xml-c14n11",
    "http://www.w3.org/2006/12/xml-c14n11#WithComments",
    "http://www.w3.org/2001/10/xml-exc-c14n#",
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
}
_C14N_DEFAULT = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
_SIGNED_PROPS_TYPE = "http://uri.etsi.org/01903#SignedProperties"
_DIGESTS = {
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-256": "sha3_256",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-384": "sha3_384",
    "http://www.w3.org/2007/05/xmldsig-more#sha3-512": "sha3_512",
}
_FMT = "XAdES"


class _Reject(Exception):
    """A structural problem: (indication sub-indication, reason)."""

    def __init__(self, sub: AdESSubIndic, why: str) -> None:
        super().__init__(why)
        self.sub = sub
        self.why = why


def looks_signed_xml(data: bytes) -> bool:
    head = data.lstrip()[:1]
    return head == b"<" and DS_NS in data and b"Signature" in data


def _parse(data: bytes) -> etree._Element | None:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError:
        return None
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        return None
    return root


def _ids(root: etree._Element) -> dict[str, etree._Element]:
    """Every element by its identifier (``Id``/``ID``/``id`` in any namespace, so ``xml:id`` too);
    raises :class:`_Reject` on a duplicate value."""
    seen: dict[str, etree._Element] = {}
    for el in root.iter(etree.Element):
        for name, value in el.attrib.items():
            # any namespace: signxml resolves "#x" by the attribute's local name
            if etree.QName(name).localname in _ID_NAMES:
                if value in seen:
                    raise _Reject(
                        AdESFailure.FORMAT_FAILURE,
                        f"The identifier {value!r} is used by more than one element, so what"
                        " was signed is ambiguous.",
                    )
                seen[value] = el
    return seen


def _check_references(
    root: etree._Element, sig: etree._Element, ids: dict[str, etree._Element]
) -> None:
    """The signature must sign the document root, and otherwise only its own properties."""
    refs = sig.findall("ds:SignedInfo/ds:Reference", _NS)
    to_root = 0
    to_props = 0
    for ref in refs:
        uri = ref.get("URI")
        if uri is None or not (uri == "" or uri.startswith("#")) or uri.startswith("#xpointer"):
            raise _Reject(
                AdESFailure.FORMAT_FAILURE,
                f"The signature has a reference {uri!r} that is neither the form nor a part of"
                " the signature.",
            )
        target = root if uri == "" else ids.get(uri[1:])
        if target is None:
            raise _Reject(
                AdESIndeterminate.SIGNED_DATA_NOT_FOUND,
                f"The signature references {uri!r}, which is not in the document.",
            )
        if target is root:
            to_root += 1
            for tr in ref.findall("ds:Transforms/ds:Transform", _NS):
                alg = tr.get("Algorithm")
                if alg != _ENVELOPED and alg not in _C14N:
                    raise _Reject(
                        AdESFailure.FORMAT_FAILURE,
                        f"The reference to the form applies the transform {alg!r}, which could"
                        " leave parts of the form unsigned.",
                    )
            continue
        inside = any(anc is sig for anc in target.iterancestors()) or target is sig
        if not inside:
            raise _Reject(
                AdESFailure.FORMAT_FAILURE,
                f"The signature signs the element {uri!r} instead of the form itself (the"
                " document root); the signed content may be a copy hidden in the document"
                " (signature wrapping).",
            )
        if ref.get("Type") == _SIGNED_PROPS_TYPE:
            if target.tag != f"{{{_XADES}}}SignedProperties":
                raise _Reject(
                    AdESFailure.FORMAT_FAILURE,
                    "The SignedProperties reference does not point at xades:SignedProperties.",
                )
            to_props += 1
    if to_root != 1:
        raise _Reject(
            AdESFailure.FORMAT_FAILURE,
            "The signature does not sign the form itself (the document root) exactly once.",
        )
    if to_props != 1:
        raise _Reject(
            AdESFailure.FORMAT_FAILURE,
            "The signature does not sign exactly one xades:SignedProperties (not XAdES).",
        )


def _certs(sig: etree._Element) -> list[pyca_x509.Certificate]:
    out = []
    for el in sig.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", _NS):
        try:
            out.append(pyca_x509.load_der_x509_certificate(base64.b64decode(el.text or "")))
        except ValueError:
            continue
    return out


def _signing_cert(
    sig: etree._Element, certs: list[pyca_x509.Certificate]
) -> pyca_x509.Certificate | None:
    """The certificate named by the first xades:Cert of SigningCertificate(V2), or ``None``."""
    props = sig.find(".//xades:SignedProperties/xades:SignedSignatureProperties", _NS)
    if props is None:
        return None
    cert_el = props.find("xades:SigningCertificateV2/xades:Cert", _NS)
    if cert_el is None:
        cert_el = props.find("xades:SigningCertificate/xades:Cert", _NS)
    if cert_el is None:
        return None
    method = cert_el.find("xades:CertDigest/ds:DigestMethod", _NS)
    value = cert_el.find("xades:CertDigest/ds:DigestValue", _NS)
    algo = _DIGESTS.get(method.get("Algorithm", "") if method is not None else "")
    if algo is None or value is None:
        return None
    try:
        want = base64.b64decode(value.text or "")
    except ValueError:
        return None
    for cert in certs:
        der = cert.public_bytes(encoding=Encoding.DER)
        if hashlib.new(algo, der).digest() == want:
            return cert
    return None


def _claimed_time(sig: etree._Element) -> str | None:
    el = sig.find(
        ".//xades:SignedProperties/xades:SignedSignatureProperties/xades:SigningTime", _NS
    )
    if el is None or not el.text:
        return None
    try:
        return datetime.fromisoformat(el.text.strip().replace("Z", "+00:00")).isoformat()
    except ValueError:
        return None


def _core(data: bytes, cert: pyca_x509.Certificate) -> None:
    """signxml's core verification; raises :class:`_Reject` on failure."""
    config = SignatureConfiguration(
        expect_references=True,
        # validity is decided by our trust machinery at the right time, not by signxml now
        verification_time=cert.not_valid_before_utc,
    )
    try:
        XAdESVerifier().verify(data, x509_cert=cert, expect_config=config)
    except InvalidDigest as exc:
        if "certificate digest" in str(exc):
            raise _Reject(
                AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND,
                "The signing-certificate reference does not match the signer's certificate.",
            ) from exc
        raise _Reject(AdESFailure.HASH_FAILURE, str(exc)) from exc
    except InvalidSignature as exc:
        raise _Reject(AdESFailure.SIG_CRYPTO_FAILURE, str(exc)) from exc
    except InvalidCertificate as exc:
        raise _Reject(AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE, str(exc)) from exc
    except (InvalidInput, SignXMLException, ValueError, KeyError) as exc:
        raise _Reject(AdESFailure.FORMAT_FAILURE, str(exc) or type(exc).__name__) from exc


def _listed_ca_certs(trust: TrustContext) -> list[asn1_x509.Certificate]:
    certs = []
    for authority in trust.registry.known_certificate_authorities:
        if isinstance(authority, AuthorityWithCert):
            certs.append(authority.certificate)
    return certs


async def _trust(
    cert: asn1_x509.Certificate,
    others: list[asn1_x509.Certificate],
    *,
    trust: TrustContext,
    spec: SignatureValidationSpec,
    at: datetime,
    explicit_time: bool,
    proven_time: datetime | None,
) -> tuple[AdESSubIndic, QualificationResult | None]:
    """Path, validity, revocation and key usage at ``at``; qualification at the signing time.

    ``proven_time`` is the time of a verified signature timestamp: a revocation after it does
    not hurt (EN 319 102-1: POE before the revocation), and the CA/QC service status is read
    at that time.
    """
    timing = _common.timing(at, explicit_time)
    async with _operation_scoped_spec(spec) as spec:
        handlers = bootstrap_validation_data_handlers(spec=spec, timing_info=timing)
        vc = spec.cert_validation_policy.build_validation_context(
            timing_info=timing, handlers=handlers
        )
        # the chain may stop at the leaf: the listed CAs' certificates serve as issuers (for
        # the path and for checking the CRLs they signed)
        vc.certificate_registry.register_multiple([*others, *_listed_ca_certs(trust)])
        op = await generic_cms.validate_cert_usage(
            cert,
            vc,
            key_usage_settings=spec.key_usage_settings,
            paths=vc.path_builder.async_build_paths_lazy(cert),
        )
        key_usage = spec.key_usage_settings
    path = op.success_result
    if op.error_subindic is not None:
        revoked = op.revo_details
        if (
            op.error_subindic == AdESIndeterminate.REVOKED_NO_POE
            and proven_time is not None
            and revoked is not None
            and not revoked.ca_revoked
            and proven_time < revoked.revocation_date
            and op.error_path is not None
        ):
            try:
                key_usage.validate(cert)  # not reached by the revocation failure
            except Exception:  # noqa: BLE001 - certvalidator's InvalidCertificateError
                return AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE, None
            path = op.error_path
        else:
            return op.error_subindic, None
    if path is None:
        return AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE, None
    moment = proven_time or at
    qualification = QualificationAssessor(trust.registry).check_entity_cert_qualified(path, moment)
    return AdESPassed.OK, qualification


def _tst(sig: etree._Element) -> tuple[cms.SignedData, bytes] | None:
    """The first SignatureTimeStamp token and the canonical SignatureValue it must cover."""
    ts_el = sig.find(
        "ds:Object/xades:QualifyingProperties/xades:UnsignedProperties"
        "/xades:UnsignedSignatureProperties/xades:SignatureTimeStamp",
        _NS,
    )
    if ts_el is None:
        return None
    token = ts_el.find("xades:EncapsulatedTimeStamp", _NS)
    value = sig.find("ds:SignatureValue", _NS)
    if token is None or value is None:
        raise _Reject(AdESFailure.FORMAT_FAILURE, "The signature timestamp is malformed.")
    method = ts_el.find("ds:CanonicalizationMethod", _NS)
    alg = method.get("Algorithm", _C14N_DEFAULT) if method is not None else _C14N_DEFAULT
    if alg not in _C14N:
        raise _Reject(
            AdESFailure.FORMAT_FAILURE,
            f"The signature timestamp uses an unknown canonicalisation {alg!r}.",
        )
    c14n = etree.tostring(
        value,
        method="c14n",
        exclusive="xml-exc-c14n" in alg,
        with_comments=alg.endswith("#WithComments"),
    )
    try:
        ci = cms.ContentInfo.load(base64.b64decode(token.text or ""), strict=True)
        sd = ci["content"]
        sd["encap_content_info"]["content"].parsed  # noqa: B018 - force a parse
    except (ValueError, TypeError, KeyError) as exc:
        raise _Reject(
            AdESFailure.FORMAT_FAILURE, "The signature timestamp is not a timestamp token."
        ) from exc
    return sd, c14n


async def _check_tst(
    tst: tuple[cms.SignedData, bytes],
    *,
    spec: SignatureValidationSpec,
    at: datetime,
    explicit: bool,
) -> tuple[datetime | None, TimestampSignatureStatus | None, str | None]:
    """(proven time or ``None``, status, reason when the timestamp proves nothing)."""
    sd, c14n = tst
    res = await ades_timestamp_validation(
        sd,
        spec,
        lambda algo: hashlib.new(algo, c14n).digest(),
        timing_info=_common.timing(at, explicit),
    )
    status = res.api_status if isinstance(res.api_status, TimestampSignatureStatus) else None
    if isinstance(res.ades_subindic, AdESPassed) and status is not None:
        return status.timestamp, status, None
    _, sub = indication_of(res.ades_subindic)
    return (
        None,
        status,
        f"The signature timestamp does not verify ({sub}); it proves nothing and the signature"
        " is judged at the validation time.",
    )


def _report(
    sub: AdESSubIndic,
    *,
    cert: asn1_x509.Certificate | None,
    qualification: QualificationResult | None,
    claimed: str | None,
    reasons: list[str],
    level: str = "B-B",
    timestamp: TimestampInfo | None = None,
) -> SignatureReport:
    indication, subindication = indication_of(sub)
    text = _common.words(subindication)
    if text:
        reasons.append(text)
    qual, class_reasons = classify(indication, qualification, cert)
    reasons.extend(class_reasons)
    return SignatureReport(
        format=_FMT,
        level=level,
        indication=indication,
        subindication=subindication,
        qualification=qual,
        signer=_common.signer_info(cert),
        signing_time=claimed,
        timestamp=timestamp,
        covers_whole_document=indication == TOTAL_PASSED,
        modifications="none",
        reasons=tuple(dict.fromkeys(reasons)),
    )


async def verify_xml(
    data: bytes, *, trust: TrustContext, at: datetime, explicit_time: bool
) -> list[SignatureReport]:
    """Verify the XAdES signature enveloped in an XML form (none found: empty list)."""
    root = _parse(data)
    if root is None:
        return [
            _report(
                AdESFailure.FORMAT_FAILURE,
                cert=None,
                qualification=None,
                claimed=None,
                reasons=["The XML is malformed or declares a DTD, which is refused."],
            )
        ]
    sigs = list(root.iter(f"{{{_DS}}}Signature"))
    if not sigs:
        return []
    if len(sigs) > 1:
        return [
            _common.not_verifiable(
                _FMT, "The form carries more than one XML signature; this is not supported."
            )
        ]
    sig = sigs[0]
    claimed = _claimed_time(sig)
    pyca_certs = _certs(sig)
    pyca_cert = _signing_cert(sig, pyca_certs)
    cert = asn1_x509.Certificate.load(pyca_cert.public_bytes(Encoding.DER)) if pyca_cert else None
    try:
        _check_references(root, sig, _ids(root))
        if pyca_cert is None:
            raise _Reject(
                AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND,
                "The signer's certificate named by the signing-certificate property is not in"
                " the signature.",
            )
        _core(data, pyca_cert)
        tst = _tst(sig)
        try:
            embedded = xades_ltv.read_embedded(sig)
        except (ValueError, TypeError) as exc:
            raise _Reject(
                AdESFailure.FORMAT_FAILURE,
                f"The signature's embedded certificate or revocation values are malformed: {exc}.",
            ) from exc
    except _Reject as rej:
        return [_report(rej.sub, cert=cert, qualification=None, claimed=claimed, reasons=[rej.why])]
    assert cert is not None
    others = [
        asn1_x509.Certificate.load(c.public_bytes(Encoding.DER))
        for c in pyca_certs
        if c is not pyca_cert
    ]
    reasons: list[str] = []
    proven: datetime | None = None
    ts_status: TimestampSignatureStatus | None = None
    spec = _ltv.with_embedded(signature_spec(trust), embedded)
    try:
        if tst is not None:
            proven, ts_status, why = await _check_tst(tst, spec=spec, at=at, explicit=explicit_time)
            if why:
                reasons.append(why)
        sub, qualification = await _trust(
            cert,
            [*others, *embedded.certs],
            trust=trust,
            spec=spec,
            at=at,
            explicit_time=explicit_time,
            proven_time=proven,
        )
        archives = await xades_ltv.archive_checks(root, sig, spec, at=at, explicit=explicit_time)
    except Exception as exc:  # noqa: BLE001 - malformed input must give a report, not a crash
        return [_common.not_verifiable(_FMT, f"The signature cannot be processed: {exc}.", cert)]
    # Same rule as for PDF/CMS: a certificate expired before the best signing time is not valid.
    if isinstance(sub, AdESPassed) and (proven or at) > cert.not_valid_after:
        sub = AdESIndeterminate.OUT_OF_BOUNDS_NO_POE
    level, level_reasons = _ltv.level_and_reasons(
        timestamped=tst is not None,
        chain=_ltv.needing_revinfo(cert, [*others, *embedded.certs], trust),
        data=embedded,
        archives=archives,
    )
    reasons.extend(level_reasons)
    return [
        _report(
            sub,
            cert=cert,
            qualification=qualification,
            claimed=_common.iso(proven) if proven else claimed,
            reasons=reasons,
            level=level,
            timestamp=_common.timestamp_info(ts_status) if tst is not None else None,
        )
    ]
