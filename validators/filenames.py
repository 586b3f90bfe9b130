"""Attachment file names from untrusted senders.

Threat model: a name is chosen by the sender and later used by clerks' browsers, by exports
and possibly as a file name on disk. :func:`safe_filename` **rejects** (never silently
rewrites) names that could act as paths or hide what they are: path separators, ``..``
anywhere, absolute or drive paths, NUL and other control characters, Unicode format
characters (bidi overrides such as U+202E that turn ``exe.pdf`` around), Windows device names,
trailing dots or spaces, and names over 255 bytes in UTF-8. Accepted names are returned in
Unicode NFC so that the same name always compares equal.

Not guaranteed: a safe name says nothing about the content (see :mod:`validators.media`);
names are not made unique.
"""

from __future__ import annotations

import unicodedata

from .errors import UnsafeFilename

MAX_NAME_BYTES = 255

_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)


def _refuse(name: str, why: str) -> UnsafeFilename:
    return UnsafeFilename(f"The file name {name!r} is not accepted: {why}.")


def safe_filename(name: str) -> str:
    """Return ``name`` (NFC) if it is a plain file name; raise :class:`UnsafeFilename`."""
    if not name or not name.strip():
        raise _refuse(name, "it is empty")
    normalised = unicodedata.normalize("NFC", name)
    if normalised in (".", ".."):
        raise _refuse(name, "it names a directory, not a file")
    if "/" in normalised or "\\" in normalised:
        raise _refuse(name, "it contains a path separator (/ or \\)")
    if ".." in normalised:
        raise _refuse(name, "it contains '..'")
    for char in normalised:
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            raise _refuse(name, f"it contains the control or invisible character U+{ord(char):04X}")
    if ":" in normalised:
        raise _refuse(name, "it contains ':' (a drive or alternate data stream on Windows)")
    if normalised != normalised.strip() or normalised.endswith("."):
        raise _refuse(name, "it begins or ends with a space, or ends with a dot")
    stem = normalised.split(".", 1)[0].upper()
    if stem in _WINDOWS_DEVICES:
        raise _refuse(name, f"{stem} is a reserved device name on Windows")
    if len(normalised.encode("utf-8")) > MAX_NAME_BYTES:
        raise _refuse(name, f"it is longer than {MAX_NAME_BYTES} bytes")
    return normalised
