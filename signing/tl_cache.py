"""The trusted-list cache that ``podatelna trust refresh`` fills and verification reads.

Layout of the cache directory (``trust.cache_dir``, by default ``<data_dir>/trusted-lists``)::

    manifest.json        which lists are current: URL, kind, file name, SHA-256, fetch time
    <sha256>.xml         the lists themselves, named by the SHA-256 of their bytes

Why content-addressed files plus one manifest: a reader (verification, possibly in another
process) only ever sees a complete set. New list files are written under their final, unique
names first (write to a temporary file, fsync, rename), then the manifest is replaced by a
rename, and only then are files no longer named by it deleted. A refresh that fails half-way
leaves the previous manifest and the files it names untouched.

The cache is *not* trusted for being a cache: every list read from it is verified again
(signatures against the LOTL or the configured TL signers) when trust is loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from .errors import TrustConfigError

__all__ = ["MANIFEST", "CachedList", "file_name", "read_cache", "store_cache"]

MANIFEST = "manifest.json"
FORMAT = 1


@dataclass(frozen=True)
class CachedList:
    """One list in the cache."""

    #: where it was downloaded from (the LOTL pointer's location for a national list)
    url: str
    kind: Literal["LOTL", "TL"]
    #: file name inside the cache directory (``<sha256>.xml``)
    file: str
    sha256: str
    #: ISO 8601 time of the download that produced these bytes
    fetched_at: str
    #: the territory the LOTL gives for this list ("" for a LOTL or a configured TL URL)
    territory: str = ""


def read_cache(cache_dir: str | Path) -> list[CachedList]:
    """The lists named by the cache's manifest (empty when there is no cache yet)."""
    path = Path(cache_dir) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise TrustConfigError(
            f"The trusted-list cache manifest {path} cannot be read: {exc}. Run"
            " `podatelna trust refresh` again or remove the directory."
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TrustConfigError(
            f"The trusted-list cache manifest {path} has an unknown format; run"
            " `podatelna trust refresh` again or remove the directory."
        )
    try:
        return [CachedList(**entry) for entry in data["lists"]]
    except (KeyError, TypeError) as exc:
        raise TrustConfigError(f"The trusted-list cache manifest {path} is damaged.") from exc


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def file_name(data: bytes) -> str:
    """The cache file name of a list: the SHA-256 of its bytes."""
    return hashlib.sha256(data).hexdigest() + ".xml"


def store_cache(
    cache_dir: str | Path, entries: list[tuple[CachedList, bytes | None]], source: str
) -> None:
    """Make ``entries`` the cache's content, atomically.

    Each entry comes with the bytes to write, or ``None`` when it is a previous entry kept as
    it is (its file is already there). Files that the new manifest does not name are removed
    after the switch.
    """
    root = Path(cache_dir)
    root.mkdir(parents=True, exist_ok=True)
    for entry, data in entries:
        target = root / entry.file
        if data is not None and not target.exists():
            _write_atomically(target, data)
        elif not target.exists():
            raise TrustConfigError(
                f"The cached list {target} to keep is missing; the cache was not changed."
            )
    manifest = {
        "format": FORMAT,
        "source": source,
        "lists": [asdict(entry) for entry, _ in entries],
    }
    _write_atomically(
        root / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
    )
    keep = {entry.file for entry, _ in entries} | {MANIFEST}
    for old in root.glob("*.xml"):
        if old.name not in keep:
            old.unlink(missing_ok=True)
