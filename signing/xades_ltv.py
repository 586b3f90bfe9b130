"""XAdES-LT and XAdES-LTA (ETSI EN 319 132-1): embedded validation data, archive timestamps.

Validation data are read from ``xades:CertificateValues`` and ``xades:RevocationValues`` in the
UnsignedSignatureProperties (and from ``xadesv141:TimeStampValidationData``); they are used for
the validation like local data (see :mod:`signing._ltv`).

A ``xadesv141:ArchiveTimeStamp`` (EN 319 132-1 § 5.5.2) is verified by recomputing the data it
must cover, in this order: the output of processing each ``ds:Reference`` of ``ds:SignedInfo``,
the canonical ``ds:SignedInfo``, ``ds:SignatureValue`` and ``ds:KeyInfo``, every unsigned
signature property before the archive timestamp, and every ``ds:Object`` other than the one
holding the QualifyingProperties (each canonicalised with the archive timestamp's
CanonicalizationMethod, inclusive C14N 1.0 by default). Reference processing supports what
:mod:`signing.xades` accepts (the form itself with the enveloped-signature and C14N transforms,
elements of the signature by ``#Id``), and checks itself: the octets it produces must match each
reference's DigestValue, or the archive timestamp is reported as not evaluable. The older XAdES
1.3.2 ``xades:ArchiveTimeStamp`` is reported as not evaluated.
"""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Callable
from datetime import datetime

from asn1crypto import cms, crl, ocsp
from asn1crypto import x509 as asn1_x509
from lxml import etree
from pyhanko.sign.validation.policy_decl import SignatureValidationSpec
from pyhanko_certvalidator.revinfo.archival import CRLContainer

from ._ltv import ArchiveCheck, Embedded, check_archive_timestamp

__all__ = ["X141", "archive_checks", "read_embedded"]

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
X141 = "http://uri.etsi.org/01903/v1.4.1#"
NS = {"ds": DS, "xades": XADES, "x141": X141}
C14N_DEFAULT = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_DIGESTS = {
    "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha224": "sha224",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
}
_USP = (
    "ds:Object/xades:QualifyingProperties/xades:UnsignedProperties"
    "/xades:UnsignedSignatureProperties"
)


def _b64(el: etree._Element) -> bytes:
    return base64.b64decode("".join((el.text or "").split()), validate=True)


def unsigned_properties(sig: etree._Element) -> etree._Element | None:
    return sig.find(_USP, NS)


def read_embedded(sig: etree._Element) -> Embedded:
    """Certificates and revocation data in the signature's unsigned properties.

    :raises ValueError: an encapsulated value is not base64 DER of what it claims to be.
    """
    data = Embedded()
    usp = unsigned_properties(sig)
    if usp is None:
        return data
    for el in usp.iterfind(".//xades:CertificateValues/xades:EncapsulatedX509Certificate", NS):
        cert = asn1_x509.Certificate.load(_b64(el))
        cert.native  # noqa: B018 - force a parse
        data.certs.append(cert)
    for el in usp.iterfind(
        ".//xades:RevocationValues/xades:CRLValues/xades:EncapsulatedCRLValue", NS
    ):
        value = crl.CertificateList.load(_b64(el))
        value.native  # noqa: B018
        data.crls.append(CRLContainer(value))
    for el in usp.iterfind(
        ".//xades:RevocationValues/xades:OCSPValues/xades:EncapsulatedOCSPValue", NS
    ):
        der = _b64(el)
        try:
            resp = ocsp.OCSPResponse.load(der)
            resp.native  # noqa: B018
            data.add_ocsp_response(resp)
        except (ValueError, TypeError):
            basic = ocsp.BasicOCSPResponse.load(der)
            basic.native  # noqa: B018
            data.add_basic_ocsp(basic)
    return data


def _c14n(el: etree._Element, alg: str) -> bytes:
    return bytes(
        etree.tostring(
            el,
            method="c14n",
            exclusive="xml-exc-c14n" in alg,
            with_comments=alg.endswith("#WithComments"),
        )
    )


def _without(root: etree._Element, sig: etree._Element) -> etree._Element:
    """A copy of the document without the signature element (its tail text stays)."""
    steps = []
    el = sig
    while el is not root:
        parent = el.getparent()
        steps.append(list(parent).index(el))
        el = parent
    doc = copy.deepcopy(root)
    target = doc
    for i in reversed(steps):
        target = target[i]
    parent = target.getparent()
    tail = target.tail or ""
    prev = target.getprevious()
    if prev is not None:
        prev.tail = (prev.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(target)
    return doc


def _by_id(root: etree._Element, ident: str) -> etree._Element | None:
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for name, value in el.attrib.items():
            if value == ident and etree.QName(name).localname in ("Id", "ID", "id"):
                return el
    return None


def _reference_octets(root: etree._Element, sig: etree._Element, ref: etree._Element) -> bytes:
    """The octets a ds:Reference digests, checked against its DigestValue."""
    uri = ref.get("URI")
    transforms = [t.get("Algorithm", "") for t in ref.iterfind("ds:Transforms/ds:Transform", NS)]
    c14n = next((a for a in transforms if a != ENVELOPED), C14N_DEFAULT)
    if uri is None:
        raise ValueError("a reference without URI cannot be processed")
    if uri == "" or (uri.startswith("#") and _by_id(root, uri[1:]) is root):
        target = _without(root, sig) if ENVELOPED in transforms else root
        octets = _c14n(target, c14n)
    elif uri.startswith("#"):
        el = _by_id(sig, uri[1:])
        if el is None:
            raise ValueError(f"the reference {uri} points to nothing in the signature")
        octets = _c14n(el, c14n)
    else:
        raise ValueError(f"the reference {uri} cannot be processed")
    method = ref.find("ds:DigestMethod", NS)
    value = ref.find("ds:DigestValue", NS)
    algo = _DIGESTS.get(method.get("Algorithm", "") if method is not None else "")
    if algo is None or value is None or hashlib.new(algo, octets).digest() != _b64(value):
        raise ValueError(
            f"the processing of the reference {uri or '(document)'} is not reproducible"
        )
    return octets


def covered_data(root: etree._Element, sig: etree._Element, ats: etree._Element) -> bytes:
    """What the archive timestamp ``ats`` must cover (see the module docstring)."""
    method = ats.find("ds:CanonicalizationMethod", NS)
    alg = method.get("Algorithm", C14N_DEFAULT) if method is not None else C14N_DEFAULT
    parts = [
        _reference_octets(root, sig, ref) for ref in sig.iterfind("ds:SignedInfo/ds:Reference", NS)
    ]
    for name in ("SignedInfo", "SignatureValue", "KeyInfo"):
        el = sig.find(f"ds:{name}", NS)
        if el is not None:
            parts.append(_c14n(el, alg))
    usp = ats.getparent()
    for child in usp:
        if child is ats:
            break
        if isinstance(child.tag, str):
            parts.append(_c14n(child, alg))
    for obj in sig.iterfind("ds:Object", NS):
        if obj.find("xades:QualifyingProperties", NS) is None:
            parts.append(_c14n(obj, alg))
    return b"".join(parts)


def _digest_for(data: bytes) -> Callable[[str], bytes]:
    return lambda algo: hashlib.new(algo, data).digest()


async def archive_checks(
    root: etree._Element,
    sig: etree._Element,
    spec: SignatureValidationSpec,
    *,
    at: datetime,
    explicit: bool,
) -> list[ArchiveCheck]:
    """Check every archive timestamp of the signature (none: empty list)."""
    usp = unsigned_properties(sig)
    if usp is None:
        return []
    out: list[ArchiveCheck] = []
    for ats in usp:
        if not isinstance(ats.tag, str):
            continue
        qname = etree.QName(ats)
        if qname.localname != "ArchiveTimeStamp":
            continue
        if qname.namespace != X141:
            out.append(
                ArchiveCheck(
                    False,
                    None,
                    None,
                    "The signature has an XAdES 1.3.2 ArchiveTimeStamp, which is not evaluated.",
                )
            )
            continue
        try:
            token = ats.find("xades:EncapsulatedTimeStamp", NS)
            if token is None:
                raise ValueError("it has no EncapsulatedTimeStamp")
            tst = cms.ContentInfo.load(_b64(token))["content"]
            tst["encap_content_info"]["content"].parsed  # noqa: B018 - force a parse
            data = covered_data(root, sig, ats)
        except (ValueError, TypeError, KeyError) as exc:
            out.append(
                ArchiveCheck(False, None, None, f"An archive timestamp cannot be evaluated: {exc}.")
            )
            continue
        out.append(
            await check_archive_timestamp(tst, _digest_for(data), spec, at=at, explicit=explicit)
        )
    return out
