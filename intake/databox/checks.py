"""The checks of a trusted envelope: one main file, limits, formats by content, archives.

Every check runs and every problem is reported (a sender fixes them all at once). A message
with problems is recorded as *rejected* with these reasons; one without is handed to the
pipeline with its files, archives unpacked beside the archive itself (which is kept).

Formats: the data-box decree (Vyhláška č. 194/2009 Sb., příloha) lists the formats a data
message may carry: PDF and PDF/A, XML (ISDOC and the 602 XML Filler forms are XML), the
OpenDocument and Office Open XML formats (and the older Office formats), JPEG, PNG, TIFF, GIF,
plain text, RTF, HTML, electronic-signature and timestamp files (``.p7s``, ``.p7m``, ...), and
ZIP containers of these. :data:`DECREE_MEDIA_TYPES` is that list as media types detected from
content by :func:`validators.detect_media_type`; ASiC containers are recognised here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from intake.databox.archives import ArchiveLimits, asic_type, is_archive, unpack
from intake.databox.envelope import Envelope
from validators import HEAD_BYTES, describe_media_type, detect_media_type

DECREE_MEDIA_TYPES: frozenset[str] = frozenset(
    {
        "application/pdf",
        "application/xml",
        "text/xml",
        "text/plain",
        "text/html",
        "application/rtf",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/x-ole-storage",  # .doc, .xls, .ppt
        "image/jpeg",
        "image/png",
        "image/tiff",
        "image/gif",
        "application/pkcs7-signature",  # .p7s, and CAdES in general
        "application/pkcs7-mime",  # .p7m, .zfo
        "application/zip",  # unpacked and checked, one level deep
        "application/vnd.etsi.asic-s+zip",
        "application/vnd.etsi.asic-e+zip",
    }
)


@dataclass(frozen=True)
class MessageLimits:
    max_total_bytes: int = 20 * 1024 * 1024
    max_files: int = 50
    archives: ArchiveLimits = field(default_factory=ArchiveLimits)
    allowed_media_types: frozenset[str] = DECREE_MEDIA_TYPES


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "file": self.file}


@dataclass(frozen=True)
class CheckedFile:
    """A file for the pipeline: the envelope's files, then the entries of archives."""

    name: str
    #: ``form`` (the main file), ``attachment`` or ``signature`` (the pipeline's roles)
    role: str
    envelope_role: str
    media_type: str
    content: bytes = field(repr=False)
    signs: str | None = None
    from_archive: str | None = None


@dataclass(frozen=True)
class CheckResult:
    files: tuple[CheckedFile, ...]
    reasons: tuple[Reason, ...]

    @property
    def ok(self) -> bool:
        return not self.reasons


def media_type_of(content: bytes) -> str:
    return asic_type(content) or detect_media_type(content[:HEAD_BYTES])


def _pipeline_role(envelope_role: str) -> str:
    return {"main": "form", "signature": "signature"}.get(envelope_role, "attachment")


def check_message(env: Envelope, limits: MessageLimits) -> CheckResult:
    reasons: list[Reason] = []
    mains = [f for f in env.files if f.role == "main"]
    if not mains:
        reasons.append(Reason("main_missing", "The message has no file with role 'main'."))
    elif len(mains) > 1:
        names = ", ".join(repr(f.name) for f in mains)
        reasons.append(
            Reason("main_duplicate", f"The message has {len(mains)} main files ({names}); one.")
        )
    if len(env.files) > limits.max_files:
        reasons.append(
            Reason(
                "too_many_files",
                f"The message carries {len(env.files)} files, more than the limit of "
                f"{limits.max_files}.",
            )
        )
    total = sum(f.size for f in env.files)
    if total > limits.max_total_bytes:
        reasons.append(
            Reason(
                "too_large",
                f"The message's files have {total:,} bytes together, more than the limit of "
                f"{limits.max_total_bytes:,}.",
            )
        )
        return CheckResult((), tuple(reasons))  # nothing larger is inflated or inspected

    def allowed(media: str) -> bool:
        return media in limits.allowed_media_types

    files: list[CheckedFile] = []
    unpacked: list[CheckedFile] = []
    for f in env.files:
        if f.role == "signature" and not f.signs:
            reasons.append(
                Reason(
                    "signature_target_missing",
                    f"The signature file {f.name!r} does not name the file it signs "
                    "(attribute 'signs').",
                    f.name,
                )
            )
        media = media_type_of(f.content)
        if not allowed(media):
            reasons.append(
                Reason(
                    "format_not_allowed",
                    f"The file {f.name!r} is {describe_media_type(media)} ({media}) by its "
                    "content, which a data message may not carry.",
                    f.name,
                )
            )
            continue
        files.append(CheckedFile(f.name, _pipeline_role(f.role), f.role, media, f.content, f.signs))
        if is_archive(media):
            result = unpack(
                f.name, f.content, limits=limits.archives, detect=media_type_of, allowed=allowed
            )
            reasons.extend(Reason(p.code, p.message, f.name) for p in result.problems)
            unpacked.extend(
                CheckedFile(
                    e.name,
                    "signature" if e.media_type == "application/pkcs7-signature" else "attachment",
                    "enclosure",
                    e.media_type,
                    e.content,
                    from_archive=f.name,
                )
                for e in result.entries
            )
    if reasons:
        return CheckResult((), tuple(reasons))
    return CheckResult(tuple(files + unpacked), ())
