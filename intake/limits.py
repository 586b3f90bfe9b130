"""Size limits enforced while data streams in, never after reading everything into memory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from intake.errors import FileTooLarge, TooLarge, TooManyFiles

CHUNK = 64 * 1024


@dataclass(frozen=True)
class IntakeLimits:
    max_total_bytes: int = 25 * 1024 * 1024
    max_files: int = 20
    max_file_bytes: int = 20 * 1024 * 1024
    max_form_bytes: int = 5 * 1024 * 1024


class Budget:
    """Counts the bytes of one submission against the total limit and each file's limit."""

    def __init__(self, limits: IntakeLimits) -> None:
        self.limits = limits
        self.total = 0
        self.files = 0

    def add_file(self) -> None:
        self.files += 1
        # the form is one file; attachments are counted against max_files
        if self.files > self.limits.max_files + 1:
            raise TooManyFiles(
                f"A submission may carry at most {self.limits.max_files} attachments."
            )

    def chunks(self, stream: BinaryIO, name: str, file_limit: int) -> Iterator[bytes]:
        """Yield ``stream``'s chunks, raising :class:`TooLarge` as soon as a limit is passed."""
        size = 0
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                return
            size += len(chunk)
            self.total += len(chunk)
            if size > file_limit:
                raise FileTooLarge(
                    f"The file {name!r} is larger than the limit of {file_limit} bytes."
                )
            if self.total > self.limits.max_total_bytes:
                raise TooLarge(
                    "The submission is larger than the limit of "
                    f"{self.limits.max_total_bytes} bytes in total."
                )
            yield chunk
