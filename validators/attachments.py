"""Checking one attachment: its name, its real media type (from content) and its size.

Threat model: as for :mod:`validators.media` and :mod:`validators.filenames`; the size is the
one measured by intake while streaming, never one claimed by the sender. A file whose name
claims another type than its content is judged by its content: it is accepted when the content
type is allowed (a photo called ``.jpg`` that is really a PNG), and rejected with a message
naming both when it is not (an executable called ``.pdf``). Names with extensions that
Windows runs (``.exe``, ``.js``, ...) are rejected whatever the content.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import IssueCode, UnsafeFilename
from .filenames import safe_filename
from .issues import ValidationIssue
from .media import EMPTY, describe_media_type, detect_media_type

#: the formats of the issue (PDF, PDF/A, XML, ODF, OOXML, images, text, CMS containers)
DEFAULT_ALLOWED_MEDIA_TYPES = frozenset(
    {
        "application/pdf",
        "application/xml",
        "text/xml",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "image/jpeg",
        "image/png",
        "image/tiff",
        "image/gif",
        "text/plain",
        "application/pkcs7-signature",
        "application/pkcs7-mime",
    }
)

#: extensions that Windows executes or that browsers run as scripts
DANGEROUS_EXTENSIONS = frozenset(
    {
        "exe", "com", "scr", "pif", "bat", "cmd", "msi", "msp", "dll", "cpl", "js", "jse",
        "vbs", "vbe", "wsf", "wsh", "ps1", "psm1", "hta", "lnk", "jar", "reg", "inf", "sh",
        "app", "appx", "msix", "gadget", "application", "url", "iso", "img", "vhd", "vhdx",
    }
)  # fmt: skip

#: what a few extensions claim, for the message when content and name disagree
_CLAIMS = {
    "pdf": "a PDF document",
    "doc": "a Word document",
    "docx": "a Word document",
    "odt": "an OpenDocument text",
    "xls": "a spreadsheet",
    "xlsx": "a spreadsheet",
    "ods": "an OpenDocument spreadsheet",
    "jpg": "a JPEG image",
    "jpeg": "a JPEG image",
    "png": "a PNG image",
    "tif": "a TIFF image",
    "tiff": "a TIFF image",
    "gif": "a GIF image",
    "txt": "plain text",
    "xml": "an XML document",
}


@dataclass(frozen=True)
class AttachmentPolicy:
    """Which media types are accepted and how large one file may be."""

    allowed_media_types: frozenset[str] = DEFAULT_ALLOWED_MEDIA_TYPES
    max_file_bytes: int = 20 * 1024 * 1024


@dataclass(frozen=True)
class AttachmentCheck:
    """The outcome of checking one attachment; ``ok`` is the bottom line."""

    ok: bool
    name: str
    media_type: str
    size: int
    issues: tuple[ValidationIssue, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "name": self.name,
            "media_type": self.media_type,
            "size": self.size,
            "issues": [issue.to_dict() for issue in self.issues],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AttachmentCheck:
        return cls(
            ok=bool(data["ok"]),
            name=str(data["name"]),
            media_type=str(data["media_type"]),
            size=int(data["size"]),
            issues=tuple(ValidationIssue.from_dict(i) for i in data.get("issues", ())),
        )


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[1].lower() if "." in name.lstrip(".") else ""


def check_attachment(
    name: str, head: bytes, size: int, policy: AttachmentPolicy
) -> AttachmentCheck:
    """Check an attachment by its name, its first bytes (see ``media.HEAD_BYTES``) and the
    size measured while it was received."""
    issues: list[ValidationIssue] = []
    try:
        shown = safe_filename(name)
    except UnsafeFilename as exc:
        issues.append(ValidationIssue(exc.code, exc.message, path=name))
        shown = name
    media_type = detect_media_type(head) if size > 0 else EMPTY
    extension = _extension(shown)
    if size <= 0:
        issues.append(
            ValidationIssue(IssueCode.EMPTY_FILE.value, f"The file {shown!r} is empty.", path=shown)
        )
    elif size > policy.max_file_bytes:
        issues.append(
            ValidationIssue(
                IssueCode.FILE_TOO_LARGE.value,
                f"The file {shown!r} has {size:,} bytes, more than the limit of "
                f"{policy.max_file_bytes:,} bytes per file.",
                path=shown,
            )
        )
    if extension in DANGEROUS_EXTENSIONS:
        issues.append(
            ValidationIssue(
                IssueCode.DANGEROUS_EXTENSION.value,
                f"The file {shown!r} has the extension .{extension}, which Windows would run "
                "as a program; such files are not accepted.",
                path=shown,
            )
        )
    if size > 0 and media_type not in policy.allowed_media_types:
        claim = _CLAIMS.get(extension)
        real = describe_media_type(media_type)
        if claim is not None:
            message = (
                f"The file {shown!r} is named like {claim}, but its content is {real} "
                f"({media_type}), which is not accepted."
            )
        else:
            message = f"The file {shown!r} is {real} ({media_type}), which is not accepted."
        allowed = ", ".join(sorted(policy.allowed_media_types))
        issues.append(
            ValidationIssue(
                IssueCode.MEDIA_TYPE_NOT_ALLOWED.value,
                f"{message} Accepted formats: {allowed}.",
                path=shown,
            )
        )
    return AttachmentCheck(not issues, shown, media_type, size, tuple(issues))
