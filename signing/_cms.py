"""Fast CMS SignedData for PAdES B-B/B-T seals made with a key held in memory.

pyHanko builds the CMS object through asn1crypto, re-encoding every certificate and the
timestamp token at each signature (~10 ms with a local token, over a second with some external
tokens). The seal's CMS has a fixed shape, so it is assembled from DER pieces encoded once:

    SignedData v1 { sha256, id-data (detached), certificates, SignerInfo v1 {
        issuerAndSerialNumber, sha256,
        signedAttrs { content-type, message-digest, signing-certificate-v2 },
        signature algorithm, signature,
        unsignedAttrs { signature-time-stamp-token }   -- B-T only
    } }

As ETSI EN 319 142-1 B-B requires, there is no signing-time attribute (the time is /M in the
signature dictionary). The result is parsed back by pyHanko when it is embedded, and every
test validates it with pyHanko and poppler.
"""

from __future__ import annotations

import hashlib

from asn1crypto import algos, tsp
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.sign.timestamps import TimeStamper

from . import _der as D
from .keys import KeptKeySigner
from .tsa import LocalTimestamper


class CmsWriter:
    def __init__(self, signer: KeptKeySigner) -> None:
        cert = signer.signing_cert
        assert cert is not None
        self.key = signer.key
        others = [c for c in signer.cert_registry if c.dump() != cert.dump()]
        self._certs = D.tlv(0xA0, b"".join(sorted(c.dump() for c in [cert, *others])))
        self._sid = D.seq(cert.issuer.dump(), D.integer(cert.serial_number))
        self._ct_attr = D.attribute(D.ID_CONTENT_TYPE, D.oid(D.ID_DATA))
        self._sc_attr = simple_cms_attribute(
            "signing_certificate_v2",
            tsp.SigningCertificateV2(
                {
                    "certs": [
                        tsp.ESSCertIDv2(
                            {
                                "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                                "cert_hash": cert.sha256,
                            }
                        )
                    ]
                }
            ),
        ).dump()
        self._sha256 = D.sha256_algorithm_id()
        self._sig_alg = D.signature_algorithm_id(isinstance(self.key, EllipticCurvePrivateKey))

    def _sign(self, data: bytes) -> bytes:
        if isinstance(self.key, EllipticCurvePrivateKey):
            return self.key.sign(data, ECDSA(hashes.SHA256()))
        return self.key.sign(data, PKCS1v15(), hashes.SHA256())

    async def build(self, document_digest: bytes, timestamper: TimeStamper | None) -> bytes:
        signed_attrs = D.set_of(
            self._ct_attr,
            D.attribute(D.ID_MESSAGE_DIGEST, D.octets(document_digest)),
            self._sc_attr,
        )
        signature = self._sign(signed_attrs)
        unsigned = b""
        if timestamper is not None:
            imprint = hashlib.sha256(signature).digest()
            if isinstance(timestamper, LocalTimestamper):
                token = timestamper.token_der(
                    D.seq(self._sha256, D.octets(imprint)), timestamper.clock()
                )
            else:
                token = bytes((await timestamper.async_timestamp(imprint, "sha256")).dump())
            unsigned = D.implicit_constructed(
                1, D.set_of(D.attribute(D.ID_SIGNATURE_TIMESTAMP, token))
            )
        signer_info = D.seq(
            D.integer(1),
            self._sid,
            self._sha256,
            D.implicit_constructed(0, signed_attrs),
            self._sig_alg,
            D.octets(signature),
            unsigned,
        )
        signed_data = D.seq(
            D.integer(1),
            D.set_of(self._sha256),
            D.seq(D.oid(D.ID_DATA)),
            self._certs,
            D.set_of(signer_info),
        )
        return D.seq(D.oid(D.ID_SIGNED_DATA), D.explicit(0, signed_data))
