"""PAdES sealing of documents the authority issues (receipts, copies, exports).

One :class:`Sealer` is built at start and reused: the key stays loaded, the space reserved for
the CMS object is estimated once (pyHanko's ``sign_pdf`` without ``bytes_reserved`` signs every
document twice to estimate it), and the validation context for B-LT is prepared once.

Levels (ETSI EN 319 142-1):

- ``B-B``: the seal alone;
- ``B-T``: plus an RFC 3161 signature timestamp;
- ``B-LT``: plus the certificate chains and revocation data of the seal and of the timestamp
  embedded in the document security store (DSS);
- ``B-LTA``: plus a document timestamp over all of that.

The input PDF is our own rendering (trusted); nothing here parses documents from outside.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from asn1crypto import crl as asn1_crl
from cryptography import x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.constants import ESIC_EXTENSION_1
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator import ValidationContext

from ._cms import CmsWriter
from .errors import SigningError
from .keys import KeptKeySigner, to_asn1

Level = Literal["B-B", "B-T", "B-LT", "B-LTA"]
LEVELS: tuple[str, ...] = ("B-B", "B-T", "B-LT", "B-LTA")
FIELD_NAME = "PecetUradu"


class SealError(SigningError):
    """A document could not be sealed (bad configuration, token or TSA failure)."""

    code = "seal_failed"


class _PdfA3Signer(signers.PdfSigner):
    """``PdfSigner`` that keeps the document at PDF 1.7, as PDF/A-3 requires.

    pyHanko declares PDF 2.0 (ISO 32002) for ECDSA on P-256; PAdES with ECDSA is already
    well defined for PDF 1.7 with the ESIC extension (ETSI EN 319 142-1), which we declare.
    """

    def register_extensions(self, pdf_out: BasePdfFileWriter, *, md_algorithm: str) -> None:
        pdf_out.ensure_output_version(version=(1, 7))
        if pdf_out.output_version < (2, 0):
            pdf_out.register_extension(ESIC_EXTENSION_1)


class Sealer:
    """Seals PDFs at a configured PAdES level. Thread-safe; build once, reuse."""

    def __init__(
        self,
        signer: signers.Signer,
        *,
        level: Level = "B-T",
        timestamper: TimeStamper | None = None,
        trust_roots: Sequence[x509.Certificate] = (),
        crls: Sequence[bytes] = (),
        reason: str = "Elektronická pečeť úřadu",
        location: str | None = None,
        bytes_reserved: int | None = None,
    ) -> None:
        if level not in LEVELS:
            raise SealError(f"The seal level {level!r} is not one of {', '.join(LEVELS)}.")
        if level != "B-B" and timestamper is None:
            raise SealError(f"The seal level {level} needs a timestamp authority; none is set.")
        if level in ("B-LT", "B-LTA") and not trust_roots:
            raise SealError(
                f"The seal level {level} embeds revocation data and needs the seal's trust root."
            )
        self.signer = signer
        self.level: Level = level
        self.timestamper = timestamper
        self._roots = [to_asn1(c) for c in trust_roots]
        self._crls = [asn1_crl.CertificateList.load(c) for c in crls]
        self._reason = reason
        self._location = location
        self._bytes_reserved = bytes_reserved
        self._lock = threading.Lock()
        self._local = threading.local()
        self._signer_now = self._pdf_signer(None)
        # B-B/B-T with a key in memory: our own CMS writer (see signing._cms)
        self._fast = (
            CmsWriter(signer) if isinstance(signer, KeptKeySigner) and not self.long_term else None
        )

    # -- configuration ------------------------------------------------------------------------

    @property
    def long_term(self) -> bool:
        return self.level in ("B-LT", "B-LTA")

    def validation_context(self, moment: datetime | None) -> ValidationContext | None:
        if not self.long_term:
            return None
        return ValidationContext(
            trust_roots=self._roots,
            crls=self._crls,
            allow_fetching=False,
            moment=moment,
            revocation_mode="hard-fail",
        )

    def _pdf_signer(self, moment: datetime | None) -> signers.PdfSigner:
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=self._reason,
            location=self._location,
            embed_validation_info=self.long_term,
            use_pades_lta=self.level == "B-LTA",
            validation_context=self.validation_context(moment),
        )
        return _PdfA3Signer(
            meta,
            self.signer,
            timestamper=self.timestamper if self.level != "B-B" else None,
        )

    # -- sealing ------------------------------------------------------------------------------

    def seal(self, pdf: bytes, *, at: datetime | None = None) -> bytes:
        """Seal ``pdf``; ``at`` is the signing time written in the seal (default: now).

        With ``at`` given at B-LT/B-LTA, the chain and revocation data are checked as of ``at``.
        Not callable from inside a running event loop: use :meth:`aseal` there.
        """
        loop = getattr(self._local, "loop", None)
        if loop is None:
            loop = self._local.loop = asyncio.new_event_loop()
        return loop.run_until_complete(self.aseal(pdf, at=at))

    async def aseal(self, pdf: bytes, *, at: datetime | None = None) -> bytes:
        signing_time = at or datetime.now(UTC)
        if self._fast is not None:
            return await self._aseal_fast(pdf, signing_time)
        pdf_signer = self._signer_now if at is None or not self.long_term else self._pdf_signer(at)
        try:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
            session = pdf_signer.init_signing_session(writer)
            session.system_time = signing_time
            validation_info = await session.perform_presign_validation(writer)
            reserved = self._bytes_reserved
            if reserved is None:
                reserved = await session.estimate_signature_container_size(
                    validation_info, tight=False
                )
                with self._lock:
                    self._bytes_reserved = reserved
            tbs = session.prepare_tbs_document(
                validation_info=validation_info, bytes_reserved=reserved
            )
            prepared, output = tbs.digest_tbs_document(in_place=False, output=None)
            post = await tbs.perform_signature(
                document_digest=prepared.document_digest,
                pdf_cms_signed_attrs=PdfCMSSignedAttributes(
                    signing_time=signing_time,
                    adobe_revinfo_attr=None,
                    cades_signed_attrs=None,
                ),
            )
            await post.post_signature_processing(output)
        except SigningError:
            raise
        except Exception as exc:  # noqa: BLE001 - pyHanko, the token and the TSA raise anything
            raise SealError(
                f"The document could not be sealed at level {self.level}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        assert isinstance(output, io.BytesIO)
        return output.getvalue()

    async def _aseal_fast(self, pdf: bytes, signing_time: datetime) -> bytes:
        assert self._fast is not None
        timestamper = self.timestamper if self.level == "B-T" else None
        try:
            if self._bytes_reserved is None:
                sample = await self._fast.build(b"\0" * 32, timestamper)
                with self._lock:
                    # pyHanko counts hex digits; leave room for a longer token (an HTTP TSA's
                    # varies) and DER length changes
                    self._bytes_reserved = 2 * (len(sample) + 1024)
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
            session = self._signer_now.init_signing_session(writer)
            session.system_time = signing_time
            tbs = session.prepare_tbs_document(
                validation_info=None, bytes_reserved=self._bytes_reserved
            )
            prepared, output = tbs.digest_tbs_document(in_place=False, output=None)
            cms_der = await self._fast.build(prepared.document_digest, timestamper)
            await PdfTBSDocument.async_finish_signing(output, prepared, cms_der)
        except SigningError:
            raise
        except Exception as exc:  # noqa: BLE001 - pyHanko and the TSA raise anything
            raise SealError(
                f"The document could not be sealed at level {self.level}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        assert isinstance(output, io.BytesIO)
        return output.getvalue()
