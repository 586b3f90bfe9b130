"""Spooling an upload to a temporary file while hashing it, with a hard size limit.

The source is untrusted: it is read in chunks, never as a whole; the limit is checked on every
chunk *before* it is written, so at most ``max_bytes`` ever reach the disk, and the temporary
file is removed on any failure (``TooLarge``, a broken client stream, a full disk).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from podatelna.storage.base import CHUNK_SIZE, Source
from podatelna.storage.errors import TooLarge


@dataclass
class Spooled:
    """A spooled upload: an open temporary file (positioned at its end) and what it holds.

    ``path`` is ``None`` when the upload was small enough to stay in memory (``file`` is then a
    ``BytesIO``)."""

    path: Path | None
    file: BinaryIO
    size: int
    sha256: str
    #: bytes reserved at the start of the file before the data (for a header)
    offset: int = 0

    def discard(self) -> None:
        try:
            self.file.close()
        finally:
            if self.path is not None:
                try:
                    os.unlink(self.path)
                except FileNotFoundError:
                    pass


def iter_source(source: Source, *, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    read = getattr(source, "read", None)
    if callable(read):
        while chunk := read(chunk_size):
            yield bytes(chunk)
    else:
        for chunk in source:
            if chunk:
                yield bytes(chunk)


def spool(
    source: Source,
    *,
    max_bytes: int,
    directory: Path,
    reserve: int = 0,
    in_memory_up_to: int = 0,
) -> Spooled:
    """Copy ``source`` into a new temporary file in ``directory``, hashing it.

    ``reserve`` bytes of zeros are written first (room for a header written later). Uploads of
    at most ``in_memory_up_to`` bytes stay in memory (no file); larger ones move to a file as
    soon as they cross it. Raises :class:`TooLarge` as soon as more than ``max_bytes`` arrived,
    leaving no file behind.
    """
    if max_bytes < 0:
        raise ValueError("max_bytes must not be negative")
    spooled = Spooled(None, io.BytesIO(), 0, "", reserve)
    try:
        f = spooled.file
        if reserve:
            f.write(b"\0" * reserve)
        h = hashlib.sha256()
        size = 0
        for chunk in iter_source(source):
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge(max_bytes)
            if spooled.path is None and size > in_memory_up_to:
                directory.mkdir(parents=True, exist_ok=True)
                fd, name = tempfile.mkstemp(prefix=".spool-", dir=directory)
                buffered = f.getvalue()  # type: ignore[attr-defined]
                f = spooled.file = os.fdopen(fd, "w+b")
                spooled.path = Path(name)
                f.write(buffered)
            h.update(chunk)
            f.write(chunk)
        f.flush()
        spooled.size = size
        spooled.sha256 = h.hexdigest()
        return spooled
    except BaseException:
        spooled.discard()
        raise
