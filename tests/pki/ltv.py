"""Extending test CAdES signatures to B-LT and B-LTA (ETSI EN 319 122-1), for the verifier's tests.

Written from the standard, separately from ``signing.cades_ltv`` (which verifies), so that a
misreading on one side does not hide itself:

- B-LT: the CRLs go into ``SignedData.crls`` (or, the older way, into a ``revocation-values``
  unsigned attribute);
- B-LTA: an ``archive-time-stamp-v3`` unsigned attribute whose token carries an
  ``ats-hash-index-v3`` unsigned attribute; the token's message imprint is the hash of
  eContentType || H(content) || SignerInfo fields || ats-hash-index-v3 value (§ 5.5.3).
"""

from __future__ import annotations

import asyncio
import hashlib

from asn1crypto import algos, cms, core, crl

REVOCATION_VALUES = "1.2.840.113549.1.9.16.2.24"
ATS_V3 = "0.4.0.1733.2.4"
ATS_HASH_INDEX_V3 = "0.4.0.19122.1.5"


def _load(p7s: bytes) -> tuple[cms.ContentInfo, cms.SignedData, cms.SignerInfo]:
    ci = cms.ContentInfo.load(p7s)
    sd = ci["content"]
    return ci, sd, sd["signer_infos"][0]


def add_cades_lt(p7s: bytes, crl_ders: list[bytes], *, as_attribute: bool = False) -> bytes:
    """The signature with the CRLs embedded (B-LT when they cover the chain)."""
    ci, sd, si = _load(p7s)
    crls = [crl.CertificateList.load(d) for d in crl_ders]
    if as_attribute:
        value = core.Any.load(_RevocationValues({"crl_vals": crls}).dump())
        attrs = [] if isinstance(si["unsigned_attrs"], core.Void) else list(si["unsigned_attrs"])
        attrs.append(cms.CMSAttribute({"type": REVOCATION_VALUES, "values": [value]}))
        si["unsigned_attrs"] = cms.CMSAttributes(attrs)
    else:
        sd["crls"] = cms.RevocationInfoChoices([cms.RevocationInfoChoice("crl", c) for c in crls])
    return bytes(ci.dump(force=True))


class _CRLs(core.SequenceOf):
    _child_spec = crl.CertificateList


class _RevocationValues(core.Sequence):
    _fields = [("crl_vals", _CRLs, {"explicit": 0, "optional": True})]


class _Index(core.Sequence):
    _fields = [
        ("hash_ind_algorithm", algos.DigestAlgorithm),
        ("certificates_hash_index", core.SequenceOf, {"spec": core.OctetString}),
        ("crls_hash_index", core.SequenceOf, {"spec": core.OctetString}),
        ("unsigned_attrs_values_hash_index", core.SequenceOf, {"spec": core.OctetString}),
    ]


def add_cades_lta(
    p7s: bytes,
    content: bytes,
    timestamper,
    *,
    imprint_content: bytes | None = None,
    extra_crl_in_index: bytes | None = None,
) -> bytes:
    """Add an archive-time-stamp-v3 over the (B-LT) signature.

    ``imprint_content`` hashes other content than the signed one (a wrong archive timestamp);
    ``extra_crl_in_index`` lists a CRL in the hash index that the signature does not contain.
    """
    ci, sd, si = _load(p7s)

    def h(data: bytes) -> bytes:
        return hashlib.sha256(data).digest()

    cert_hashes = [h(c.dump()) for c in sd["certificates"]]
    crl_hashes = [] if isinstance(sd["crls"], core.Void) else [h(c.dump()) for c in sd["crls"]]
    if extra_crl_in_index is not None:
        crl_hashes.append(
            h(cms.RevocationInfoChoice("crl", crl.CertificateList.load(extra_crl_in_index)).dump())
        )
    attrs = [] if isinstance(si["unsigned_attrs"], core.Void) else list(si["unsigned_attrs"])
    attr_hashes = [h(a["type"].dump() + v.dump()) for a in attrs for v in a["values"]]
    index = _Index(
        {
            "hash_ind_algorithm": {"algorithm": "sha256"},
            "certificates_hash_index": cert_hashes,
            "crls_hash_index": crl_hashes,
            "unsigned_attrs_values_hash_index": attr_hashes,
        }
    )
    parts = [
        sd["encap_content_info"]["content_type"].dump(),
        h(imprint_content if imprint_content is not None else content),
        si["version"].dump(),
        si["sid"].dump(),
        si["digest_algorithm"].dump(),
        si["signed_attrs"].dump(),
        si["signature_algorithm"].dump(),
        si["signature"].dump(),
        index.dump(),
    ]
    token = asyncio.run(timestamper.async_timestamp(h(b"".join(parts)), "sha256"))
    tst_si = token["content"]["signer_infos"][0]
    tst_si["unsigned_attrs"] = cms.CMSAttributes(
        [cms.CMSAttribute({"type": ATS_HASH_INDEX_V3, "values": [core.Any.load(index.dump())]})]
    )
    token = cms.ContentInfo.load(token.dump(force=True))
    attrs.append(cms.CMSAttribute({"type": ATS_V3, "values": [core.Any.load(token.dump())]}))
    si["unsigned_attrs"] = cms.CMSAttributes(attrs)
    return bytes(ci.dump(force=True))


# -- XAdES (EN 319 132-1) ---------------------------------------------------------------------

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
XADES141 = "http://uri.etsi.org/01903/v1.4.1#"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"


def _usp(signature):
    from lxml import etree

    qp = signature.find(f"{{{DS}}}Object/{{{XADES}}}QualifyingProperties")
    up = qp.find(f"{{{XADES}}}UnsignedProperties")
    if up is None:
        up = etree.SubElement(qp, f"{{{XADES}}}UnsignedProperties")
    usp = up.find(f"{{{XADES}}}UnsignedSignatureProperties")
    if usp is None:
        usp = etree.SubElement(up, f"{{{XADES}}}UnsignedSignatureProperties")
    return usp


def add_xades_lt(signed: bytes, crl_ders: list[bytes], cert_ders: list[bytes] = ()) -> bytes:
    """Add xades:CertificateValues (when ``cert_ders``) and xades:RevocationValues (CRLs)."""
    import base64

    from lxml import etree

    root = etree.fromstring(signed)
    usp = _usp(root.find(f"{{{DS}}}Signature"))
    if cert_ders:
        cv = etree.SubElement(usp, f"{{{XADES}}}CertificateValues")
        for der in cert_ders:
            etree.SubElement(cv, f"{{{XADES}}}EncapsulatedX509Certificate").text = base64.b64encode(
                der
            ).decode()
    rv = etree.SubElement(usp, f"{{{XADES}}}RevocationValues")
    crls = etree.SubElement(rv, f"{{{XADES}}}CRLValues")
    for der in crl_ders:
        etree.SubElement(crls, f"{{{XADES}}}EncapsulatedCRLValue").text = base64.b64encode(
            der
        ).decode()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def add_xades_lta(signed: bytes, timestamper, *, skip_unsigned: bool = False) -> bytes:
    """Add a xadesv141:ArchiveTimeStamp (EN 319 132-1 § 5.5.2, inclusive C14N 1.0).

    ``skip_unsigned`` leaves the unsigned properties out of the covered data (a wrong archive
    timestamp).
    """
    import base64
    import copy

    from lxml import etree

    root = etree.fromstring(signed)
    sig = root.find(f"{{{DS}}}Signature")

    def c14n(el) -> bytes:
        return etree.tostring(el, method="c14n")

    covered = []
    for ref in sig.findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference"):
        uri = ref.get("URI")
        (target,) = [root] if uri == "" else root.xpath(f"//*[@Id='{uri[1:]}']")
        if target is root:
            # the form with the enveloped signature removed, canonicalised
            doc = copy.deepcopy(root)
            doc.remove(doc.find(f"{{{DS}}}Signature"))
            covered.append(c14n(doc))
        else:
            covered.append(c14n(target))
    for name in ("SignedInfo", "SignatureValue", "KeyInfo"):
        el = sig.find(f"{{{DS}}}{name}")
        if el is not None:
            covered.append(c14n(el))
    usp = _usp(sig)
    if not skip_unsigned:
        covered.extend(c14n(child) for child in usp)
    for obj in sig.findall(f"{{{DS}}}Object"):
        if obj.find(f"{{{XADES}}}QualifyingProperties") is None:
            covered.append(c14n(obj))
    digest = hashlib.sha256(b"".join(covered)).digest()
    token = asyncio.run(timestamper.async_timestamp(digest, "sha256"))
    ats = etree.SubElement(usp, f"{{{XADES141}}}ArchiveTimeStamp", Id="ats1")
    etree.SubElement(ats, f"{{{DS}}}CanonicalizationMethod", Algorithm=C14N)
    etree.SubElement(ats, f"{{{XADES}}}EncapsulatedTimeStamp").text = base64.b64encode(
        token.dump()
    ).decode()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
