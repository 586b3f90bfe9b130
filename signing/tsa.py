"""RFC 3161 timestamps: a local timestamp authority and a client for a TSA over HTTP.

Both are pyHanko ``TimeStamper`` objects (usable for PAdES signature and document timestamps)
and add :meth:`Timestamper.timestamp_token` for the intake stage: a DER ``ContentInfo``
(a TimeStampToken) over a payload hash.

The local TSA keeps its key loaded (pyHanko's ``DummyTimeStamper`` re-parses it per token and is
RSA-only) and reads the time from an injected clock. It is a development default: its tokens
are only as trustworthy as this machine's clock and key file.

The HTTP client sends the request to a configured URL and trusts nothing in the answer until
pyHanko has checked the status, the nonce and the message imprint; the response size is bounded.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

import httpx
from asn1crypto import algos, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from . import _der as D
from .errors import SigningError
from .keys import PrivateKey, to_asn1

#: policy OID of the local TSA (a private arc: tokens of a development TSA)
LOCAL_POLICY = "1.3.6.1.4.1.99999.3161.1"
MAX_RESPONSE_BYTES = 1 << 20


class TimestampError(SigningError):
    """No timestamp could be obtained (TSA unreachable, refused, or answered nonsense)."""

    code = "timestamp_failed"


@runtime_checkable
class Timestamper(Protocol):
    """What the intake stage needs: an RFC 3161 token over a digest."""

    def timestamp_token(self, digest: bytes, *, hash_algorithm: str = "sha256") -> bytes: ...


class _TokenMixin(TimeStamper):
    def timestamp_token(self, digest: bytes, *, hash_algorithm: str = "sha256") -> bytes:
        """An RFC 3161 TimeStampToken (DER ``ContentInfo``) over ``digest``.

        Not callable from inside a running event loop: use :meth:`atimestamp_token` there.
        """
        return asyncio.run(self.atimestamp_token(digest, hash_algorithm=hash_algorithm))

    async def atimestamp_token(self, digest: bytes, *, hash_algorithm: str = "sha256") -> bytes:
        try:
            token = await self.async_timestamp(digest, hash_algorithm)
        except (TimestampRequestError, OSError) as exc:
            raise TimestampError(f"The timestamp authority gave no timestamp: {exc}.") from exc
        return bytes(token.dump())


class LocalTimestamper(_TokenMixin):
    """A timestamp authority inside the process, with its own certificate and kept key."""

    def __init__(
        self,
        cert: x509.Certificate,
        key: PrivateKey,
        chain: list[x509.Certificate] | tuple[x509.Certificate, ...] = (),
        *,
        clock: Callable[[], datetime] | None = None,
        policy: str = LOCAL_POLICY,
    ) -> None:
        super().__init__(include_nonce=True)
        self.cert = to_asn1(cert)
        self.key = key
        self.chain = [to_asn1(c) for c in chain]
        self.clock = clock or (lambda: datetime.now(UTC))
        self.policy = policy
        self._ec = isinstance(key, EllipticCurvePrivateKey)
        self._signing_cert_attr = simple_cms_attribute(
            "signing_certificate_v2",
            tsp.SigningCertificateV2(
                {
                    "certs": [
                        tsp.ESSCertIDv2(
                            {
                                "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                                "cert_hash": self.cert.sha256,
                            }
                        )
                    ]
                }
            ),
        )
        self._token_certs = [self.cert, *self.chain]
        self.cert_registry.register_multiple(self._token_certs)
        self._precompute()

    def _precompute(self) -> None:
        self._sid = D.seq(self.cert.issuer.dump(), D.integer(self.cert.serial_number))
        self._certs_field = D.tlv(0xA0, b"".join(sorted(c.dump() for c in self._token_certs)))
        self._ct_attr = D.attribute(D.ID_CONTENT_TYPE, D.oid(D.ID_CT_TSTINFO))
        self._sc_attr = self._signing_cert_attr.dump()
        self._policy = D.oid(self.policy)
        self._tsa_field = D.explicit(
            0, asn1_x509.GeneralName(name="directory_name", value=self.cert.subject).dump()
        )
        self._sha256 = D.sha256_algorithm_id()
        self._sig_alg = D.signature_algorithm_id(self._ec)

    def token_der(
        self, imprint_der: bytes, at: datetime, *, nonce_der: bytes = b"", with_certs: bool = True
    ) -> bytes:
        """A TimeStampToken (DER ContentInfo) over a DER-encoded MessageImprint."""
        tst = D.seq(
            D.integer(1),
            self._policy,
            imprint_der,
            D.integer(secrets.randbits(63)),
            D.generalized_time(at),
            D.seq(D.integer(1)),  # accuracy: one second
            nonce_der,
            self._tsa_field,
        )
        signed_attrs = D.set_of(
            self._ct_attr,
            D.attribute(D.ID_MESSAGE_DIGEST, D.octets(hashlib.sha256(tst).digest())),
            self._sc_attr,
        )
        if isinstance(self.key, EllipticCurvePrivateKey):
            signature = self.key.sign(signed_attrs, ECDSA(hashes.SHA256()))
        else:
            signature = self.key.sign(signed_attrs, PKCS1v15(), hashes.SHA256())
        signer_info = D.seq(
            D.integer(1),
            self._sid,
            self._sha256,
            D.implicit_constructed(0, signed_attrs),
            self._sig_alg,
            D.octets(signature),
        )
        signed_data = D.seq(
            D.integer(3),
            D.set_of(self._sha256),
            D.seq(D.oid(D.ID_CT_TSTINFO), D.explicit(0, D.octets(tst))),
            self._certs_field if with_certs else b"",
            D.set_of(signer_info),
        )
        return D.seq(D.oid(D.ID_SIGNED_DATA), D.explicit(0, signed_data))

    def timestamp_token(self, digest: bytes, *, hash_algorithm: str = "sha256") -> bytes:
        if hash_algorithm != "sha256" or len(digest) != 32:
            return super().timestamp_token(digest, hash_algorithm=hash_algorithm)
        imprint = D.seq(self._sha256, D.octets(digest))
        return self.token_der(imprint, self.clock())

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        nonce = req["nonce"]
        token = self.token_der(
            req["message_imprint"].dump(),
            self.clock(),
            nonce_der=nonce.dump() if nonce.native is not None else b"",
            with_certs=bool(req["cert_req"].native),
        )
        return tsp.TimeStampResp.load(D.seq(D.seq(D.integer(0)), token))


class HttpTimestamper(_TokenMixin):
    """RFC 3161 client over HTTP(S), with one kept connection pool."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        username: str = "",
        password: str = "",
    ) -> None:
        super().__init__(include_nonce=True)
        if not url.startswith(("http://", "https://")):
            raise TimestampError(f"The timestamp authority URL {url!r} is not an http(s) URL.")
        self.url = url
        auth = httpx.BasicAuth(username, password) if username else None
        self._client = httpx.Client(timeout=timeout, auth=auth)

    def _post(self, body: bytes) -> bytes:
        try:
            resp = self._client.post(
                self.url, content=body, headers={"Content-Type": "application/timestamp-query"}
            )
        except httpx.HTTPError as exc:
            raise TimestampRequestError(f"cannot reach {self.url} ({exc})") from exc
        if resp.status_code != 200:
            raise TimestampRequestError(f"{self.url} answered HTTP {resp.status_code}")
        if resp.headers.get("content-type", "").split(";")[0] != "application/timestamp-reply":
            raise TimestampRequestError(f"{self.url} answered with a non-timestamp content type")
        if len(resp.content) > MAX_RESPONSE_BYTES:
            raise TimestampRequestError(f"{self.url} answered with an oversized response")
        return resp.content

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        raw = await asyncio.to_thread(self._post, req.dump())
        try:
            resp = tsp.TimeStampResp.load(raw)
            resp.native  # noqa: B018 - parse fully now, so garbage fails here
        except ValueError as exc:
            raise TimestampRequestError(f"{self.url} answered with malformed DER") from exc
        return resp

    def close(self) -> None:
        self._client.close()
