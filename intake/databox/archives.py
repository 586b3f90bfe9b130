"""ZIP and ASiC containers inside a message: checked, then unpacked under limits.

Threat model: an archive is untrusted. It may be a bomb (a small file that inflates to
gigabytes, or declares false sizes), carry thousands of entries, nest archives inside archives,
hide encrypted entries we cannot judge, or name entries ``../../etc/passwd`` or ``/abs`` to
escape a directory. The defences:

* at most :attr:`ArchiveLimits.max_entries` entries (ISDS: 1,000), counted from the central
  directory before anything is inflated;
* inflation is streamed and counted: an archive whose entries together inflate to more than
  :attr:`ArchiveLimits.max_uncompressed_bytes` is refused as soon as that many bytes came out,
  whatever the headers declared; an entry that inflates more than
  :attr:`ArchiveLimits.max_ratio` times its compressed size is a bomb too;
* an encrypted entry (general purpose flag bit 0) is refused: its content cannot be checked;
* entry names must be relative paths without ``..``, drive letters or backslashes;
* an entry that is itself an archive (by content) is refused: one level of nesting only;
* every entry's media type is judged by content against the allowed formats.

Entries are returned as bytes for the pipeline (their names prefixed with the archive's name,
as display names, never as paths); the archive itself is kept as it came. ASiC-S / ASiC-E
containers (ETSI EN 319 162) are ZIPs whose first entry is ``mimetype`` =
``application/vnd.etsi.asic-*+zip``; they are checked the same way, and their
``META-INF/*.p7s`` signatures are verified by the pipeline with the files they sign.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from validators import HEAD_BYTES

ASIC_S = "application/vnd.etsi.asic-s+zip"
ASIC_E = "application/vnd.etsi.asic-e+zip"
ZIP = "application/zip"
ARCHIVE_TYPES = frozenset({ZIP, ASIC_S, ASIC_E})
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int = 1000
    max_uncompressed_bytes: int = 100 * 1024 * 1024
    max_ratio: int = 200


@dataclass(frozen=True)
class Entry:
    name: str
    content: bytes
    media_type: str


@dataclass(frozen=True)
class Problem:
    code: str
    message: str


@dataclass(frozen=True)
class Unpacked:
    entries: tuple[Entry, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def asic_type(data: bytes) -> str | None:
    """The ASiC media type when ``data`` is a ZIP whose first entry is an ASiC ``mimetype``."""
    if not data.startswith(b"PK\x03\x04") or len(data) < 30:
        return None
    name_len = int.from_bytes(data[26:28], "little")
    extra_len = int.from_bytes(data[28:30], "little")
    if data[30 : 30 + name_len] != b"mimetype" or data[8:10] != b"\x00\x00":
        return None
    size = int.from_bytes(data[18:22], "little")
    start = 30 + name_len + extra_len
    body = data[start : start + min(size, 64)].strip()
    if body in (ASIC_S.encode(), ASIC_E.encode()):
        return body.decode()
    return None


def is_archive(media_type: str) -> bool:
    return media_type in ARCHIVE_TYPES


def _unsafe_name(name: str) -> str | None:
    if not name:
        return "an entry has no name"
    if "\\" in name:
        return f"the entry {name!r} contains a backslash"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return f"the entry {name!r} is an absolute path"
    if any(part == ".." for part in name.split("/")):
        return f"the entry {name!r} climbs out of the archive with '..'"
    if "\x00" in name or any(ord(c) < 32 for c in name):
        return f"the entry {name!r} contains control characters"
    return None


def unpack(
    archive_name: str,
    data: bytes,
    *,
    limits: ArchiveLimits,
    detect: Callable[[bytes], str],
    allowed: Callable[[str], bool],
) -> Unpacked:
    """Check and unpack one archive; ``detect`` gives an entry's media type from its head,
    ``allowed`` says whether a media type may be carried."""

    def refused(code: str, message: str) -> Unpacked:
        return Unpacked((), (Problem(code, f"{archive_name}: {message}"),))

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        return refused("archive_invalid", f"the archive cannot be read ({exc}).")
    if len(infos) > limits.max_entries:
        return refused(
            "archive_too_many_entries",
            f"the archive has {len(infos)} entries, more than the limit of {limits.max_entries}.",
        )
    problems: list[Problem] = []
    for info in infos:
        why = _unsafe_name(info.filename)
        if why:
            problems.append(Problem("archive_path_traversal", f"{archive_name}: {why}."))
        if info.flag_bits & 0x1:
            problems.append(
                Problem(
                    "archive_encrypted",
                    f"{archive_name}: the entry {info.filename!r} is encrypted; encrypted "
                    "content cannot be checked and is not accepted.",
                )
            )
    if problems:
        return Unpacked((), tuple(problems))
    entries: list[Entry] = []
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        buf = bytearray()
        try:
            with zf.open(info) as fh:
                while chunk := fh.read(_CHUNK):
                    buf += chunk
                    total += len(chunk)
                    if total > limits.max_uncompressed_bytes:
                        return refused(
                            "archive_bomb",
                            "the entries inflate to more than "
                            f"{limits.max_uncompressed_bytes:,} bytes (a zip bomb?).",
                        )
                    if len(buf) > max(info.compress_size, 1) * limits.max_ratio + _CHUNK:
                        return refused(
                            "archive_bomb",
                            f"the entry {info.filename!r} inflates more than "
                            f"{limits.max_ratio} times its compressed size (a zip bomb?).",
                        )
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
            return refused("archive_invalid", f"the entry {info.filename!r} is unreadable ({exc}).")
        content = bytes(buf)
        media = asic_type(content) or detect(content[:HEAD_BYTES])
        if is_archive(media):
            problems.append(
                Problem(
                    "archive_nested",
                    f"{archive_name}: the entry {info.filename!r} is itself an archive; "
                    "archives may not be nested.",
                )
            )
            continue
        if not allowed(media):
            problems.append(
                Problem(
                    "format_not_allowed",
                    f"{archive_name}: the entry {info.filename!r} is {media}, which is not an "
                    "allowed format.",
                )
            )
            continue
        entries.append(Entry(f"{archive_name}/{info.filename}", content, media))
    return Unpacked(tuple(entries), tuple(problems))
