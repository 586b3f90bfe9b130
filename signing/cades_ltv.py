"""CAdES-LT and CAdES-LTA (ETSI EN 319 122-1): embedded validation data, archive timestamps.

Validation data are read from where EN 319 122-1 puts them (``SignedData.certificates`` and
``SignedData.crls``, OCSP responses as ``id-ri-ocsp-response`` other revocation info) and from
the older CAdES-X-L attributes ``certificate-values`` and ``revocation-values``.

An ``archive-time-stamp-v3`` (EN 319 122-1 § 5.5.3) is verified by recomputing its message
imprint: the concatenation of the DER encoding of ``eContentType``, the hash of the signed content,
the SignerInfo's ``version``, ``sid``, ``digestAlgorithm``, ``signedAttrs``,
``signatureAlgorithm`` and ``signature`` fields (as encoded), and the ``ats-hash-index-v3``
value carried as an unsigned attribute of the timestamp token. Every hash in that index must
match a certificate, a revocation entry or an unsigned attribute value (attrType || value) present
in the signature (elements added after the archive timestamp are allowed, as the standard
requires for later archive timestamps); the index's hash algorithm must be the imprint's.
Older ``archive-time-stamp`` v2 attributes are reported as not supported (level stays B-LT).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from asn1crypto import algos, cms, core, crl, ocsp
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation.policy_decl import SignatureValidationSpec
from pyhanko_certvalidator.revinfo.archival import CRLContainer

from ._ltv import ArchiveCheck, Embedded, check_archive_timestamp

__all__ = ["ATS_V3", "ATS_HASH_INDEX_V3", "archive_checks", "read_embedded"]

CERT_VALUES = "1.2.840.113549.1.9.16.2.23"
REVOCATION_VALUES = "1.2.840.113549.1.9.16.2.24"
ATS_V2 = "1.2.840.113549.1.9.16.2.48"
ATS_V3 = "0.4.0.1733.2.4"
ATS_HASH_INDEX_V3 = "0.4.0.19122.1.5"


class _BasicOCSPs(core.SequenceOf):
    _child_spec = ocsp.BasicOCSPResponse


class _CRLs(core.SequenceOf):
    _child_spec = crl.CertificateList


class _RevocationValues(core.Sequence):
    """RevocationValues (RFC 5126 § 6.3.4); otherRevVals are ignored."""

    _fields = [
        ("crl_vals", _CRLs, {"explicit": 0, "optional": True}),
        ("ocsp_vals", _BasicOCSPs, {"explicit": 1, "optional": True}),
        ("other_rev_vals", core.Any, {"explicit": 2, "optional": True}),
    ]


class _Certificates(core.SequenceOf):
    _child_spec = asn1_x509.Certificate


class _Anys(core.SequenceOf):
    _child_spec = core.Any


class _OctetStrings(core.SequenceOf):
    _child_spec = core.OctetString


def _items(value: core.Asn1Value) -> list:
    """The elements of an optional SET OF (none when absent)."""
    return [] if isinstance(value, core.Void) else list(value)  # type: ignore[call-overload]


def _unsigned(signer_info: cms.SignerInfo) -> list[cms.CMSAttribute]:
    attrs = signer_info["unsigned_attrs"]
    return [] if isinstance(attrs, core.Void) else list(attrs)


def _oid(attr: cms.CMSAttribute) -> str:
    return str(attr["type"].dotted)


def read_embedded(sd: cms.SignedData, signer_info: cms.SignerInfo) -> Embedded:
    """Certificates, CRLs and OCSP responses embedded in the SignedData and the signer's attrs."""
    data = Embedded()
    for choice in _items(sd["certificates"]):
        if choice.name == "certificate":
            data.certs.append(choice.chosen)
    for choice in _items(sd["crls"]):
        if choice.name == "crl":
            data.crls.append(CRLContainer(choice.chosen))
        elif choice.chosen["other_rev_info_format"].native == "ocsp_response":
            data.add_ocsp_response(ocsp.OCSPResponse.load(choice.chosen["other_rev_info"].dump()))
    for attr in _unsigned(signer_info):
        for value in attr["values"]:
            if _oid(attr) == CERT_VALUES:
                data.certs.extend(_Certificates.load(value.dump()))
            elif _oid(attr) == REVOCATION_VALUES:
                rv = _RevocationValues.load(value.dump())
                if not isinstance(rv["crl_vals"], core.Void):
                    data.crls.extend(CRLContainer(c) for c in rv["crl_vals"])
                if not isinstance(rv["ocsp_vals"], core.Void):
                    for basic in rv["ocsp_vals"]:
                        data.add_basic_ocsp(basic)
    return data


def _index(tst: cms.SignedData) -> tuple[str, list[bytes], list[bytes], list[bytes], bytes]:
    """(algorithm, cert hashes, crl hashes, attr-value hashes, DER of the index value)."""
    for attr in _unsigned(tst["signer_infos"][0]):
        if _oid(attr) == ATS_HASH_INDEX_V3:
            der = attr["values"][0].dump()
            parts = list(_Anys.load(der))
            algo = "sha256"
            if len(parts) == 4:
                algo = algos.DigestAlgorithm.load(parts[0].dump())["algorithm"].native
                parts = parts[1:]
            if len(parts) != 3:
                raise ValueError("ats-hash-index-v3 has a wrong number of fields")
            lists = [[o.native for o in _OctetStrings.load(p.dump())] for p in parts]
            return algo, lists[0], lists[1], lists[2], der
    raise ValueError("the archive timestamp has no ats-hash-index-v3 attribute")


def _present(sd: cms.SignedData, signer_info: cms.SignerInfo, algo: str) -> list[set[bytes]]:
    def h(data: bytes) -> bytes:
        return hashlib.new(algo, data).digest()

    certs = {h(c.dump()) for c in _items(sd["certificates"])}
    crls = {h(c.dump()) for c in _items(sd["crls"])}
    attrs = {h(a["type"].dump() + v.dump()) for a in _unsigned(signer_info) for v in a["values"]}
    return [certs, crls, attrs]


def _imprint_v3(
    sd: cms.SignedData,
    signer_info: cms.SignerInfo,
    content: bytes,
    tst: cms.SignedData,
) -> Callable[[str], bytes]:
    algo, cert_h, crl_h, attr_h, index_der = _index(tst)
    present = _present(sd, signer_info, algo)
    for what, wanted, have in zip(
        ("certificate", "revocation entry", "unsigned attribute"),
        (cert_h, crl_h, attr_h),
        present,
        strict=True,
    ):
        if not set(wanted) <= have:
            raise ValueError(f"ats-hash-index-v3 names a {what} the signature does not contain")
    fields = b"".join(
        signer_info[name].dump()
        for name in (
            "version",
            "sid",
            "digest_algorithm",
            "signed_attrs",
            "signature_algorithm",
            "signature",
        )
    )
    head = sd["encap_content_info"]["content_type"].dump()

    def digest_for(md: str) -> bytes:
        if md != algo:
            raise ValueError(
                f"the archive timestamp's imprint uses {md}, its hash index uses {algo}"
            )
        data = head + hashlib.new(md, content).digest() + fields + index_der
        return hashlib.new(md, data).digest()

    return digest_for


async def archive_checks(
    sd: cms.SignedData,
    signer_info: cms.SignerInfo,
    content: bytes,
    spec: SignatureValidationSpec,
    *,
    at: datetime,
    explicit: bool,
) -> list[ArchiveCheck]:
    """Check every archive timestamp on the signature (none: empty list)."""
    out: list[ArchiveCheck] = []
    for attr in _unsigned(signer_info):
        if _oid(attr) == ATS_V2:
            out.append(
                ArchiveCheck(
                    False,
                    None,
                    None,
                    "The signature has an archive-time-stamp v2 (CAdES-A of TS 101 733), which is"
                    " not evaluated.",
                )
            )
        if _oid(attr) != ATS_V3:
            continue
        for value in attr["values"]:
            try:
                ci = cms.ContentInfo.load(value.dump())
                tst = ci["content"]
                digest_for = _imprint_v3(sd, signer_info, content, tst)
            except (ValueError, TypeError, KeyError) as exc:
                out.append(
                    ArchiveCheck(False, None, None, f"An archive timestamp is not valid: {exc}.")
                )
                continue
            out.append(
                await check_archive_timestamp(tst, digest_for, spec, at=at, explicit=explicit)
            )
    return out
