"""Verifying files and whole submissions: format sniffing and pairing of detached signatures.

Threat model: file names and bytes are untrusted. Formats are recognised by content, not by
name (a ``.pdf`` that is CMS is verified as CMS). A detached ``.p7s`` is paired with the file it
signs by name (``X.p7s`` signs ``X``) and, failing that, by trying every other file of the
submission (the digest decides).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from pyhanko.sign.validation import generic_cms

from . import cades, pades, xades
from .report import DocumentReport, SubmissionReport
from .trust import TrustContext

__all__ = ["averify_file", "averify_submission_files", "verify_file", "verify_submission_files"]


def _now(at: datetime | None) -> tuple[datetime, bool]:
    if at is None:
        return datetime.now(UTC), False
    if at.tzinfo is None:
        raise ValueError("The validation time must carry a time zone.")
    return at, True


async def averify_file(
    path_or_bytes: str | Path | bytes,
    *,
    name: str,
    detached_content: bytes | None = None,
    trust: TrustContext,
    at: datetime | None = None,
) -> DocumentReport:
    """Verify every signature in one file (async form of :func:`verify_file`)."""
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    when, explicit = _now(at)
    if pades.is_pdf(data):
        sigs, problem = await pades.verify_pdf(data, trust=trust, at=when, explicit_time=explicit)
        return DocumentReport(name=name, signatures=tuple(sigs), problem=problem)
    if cades.is_cms(data):
        sigs = await cades.verify_cms(
            data, detached_content=detached_content, trust=trust, at=when, explicit_time=explicit
        )
        return DocumentReport(name=name, signatures=tuple(sigs))
    if xades.looks_signed_xml(data):
        sigs = await xades.verify_xml(data, trust=trust, at=when, explicit_time=explicit)
        return DocumentReport(name=name, signatures=tuple(sigs))
    return DocumentReport(name=name, signatures=())


def verify_file(
    path_or_bytes: str | Path | bytes,
    *,
    name: str,
    detached_content: bytes | None = None,
    trust: TrustContext,
    at: datetime | None = None,
) -> DocumentReport:
    """Verify every signature in one file.

    ``detached_content`` is the signed file for a detached CMS signature. ``at`` is the
    validation time (default: now); signing time is proven by a timestamp where there is one.
    Never raises for a bad signature or unreadable file: the report says so.
    """
    return asyncio.run(
        averify_file(
            path_or_bytes, name=name, detached_content=detached_content, trust=trust, at=at
        )
    )


def _detached_digest_matches(sig: bytes, content: bytes) -> bool:
    sd = cades.parse_cms(sig)
    if sd is None:
        return False
    try:
        si = generic_cms.extract_signer_info(sd)
        algo = si["digest_algorithm"]["algorithm"].native
        for attr in si["signed_attrs"]:
            if attr["type"].native == "message_digest":
                return bool(attr["values"][0].native == hashlib.new(algo, content).digest())
    except (ValueError, KeyError, TypeError):
        return False
    return False


def _pair(name: str, sig: bytes, files: Sequence[tuple[str, bytes]]) -> str | None:
    stem = name[: -len(".p7s")] if name.lower().endswith(".p7s") else None
    by_name = {n: d for n, d in files}
    if stem is not None and stem in by_name:
        return stem
    for other, content in files:
        if other != name and _detached_digest_matches(sig, content):
            return other
    return stem if stem is not None and stem in by_name else None


async def averify_submission_files(
    files: Sequence[tuple[str, bytes]], trust: TrustContext, at: datetime | None = None
) -> SubmissionReport:
    when, _ = _now(at)
    reports = []
    for name, data in files:
        signs = None
        detached = None
        if cades.is_cms(data):
            sd = cades.parse_cms(data)
            if sd is not None and cades.encapsulated_content(sd) is None:
                signs = _pair(name, data, files)
                detached = dict(files).get(signs) if signs else None
        report = await averify_file(data, name=name, detached_content=detached, trust=trust, at=at)
        if signs:
            report = DocumentReport(
                name=report.name,
                signatures=report.signatures,
                signs=signs,
                problem=report.problem,
            )
        reports.append(report)
    return SubmissionReport(files=tuple(reports), validation_time=when.isoformat())


def verify_submission_files(
    files: Sequence[tuple[str, bytes]], trust: TrustContext, at: datetime | None = None
) -> SubmissionReport:
    """Verify every file of a submission (the form itself when it carries XAdES, PDFs,
    ``.p7m``, and detached ``.p7s`` paired with the file they sign)."""
    return asyncio.run(averify_submission_files(files, trust, at))
