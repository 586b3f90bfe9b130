"""Streaming multipart parsing with limits enforced while the body arrives.

Starlette's own form parsing reads the whole upload before the handler runs; this parser feeds
python-multipart chunk by chunk and stops as soon as a part, the file count or the total passes
its limit, so an oversized upload is refused without being stored or held in memory. File parts
are spooled (memory up to 1 MB, then a temporary file).
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import IO

from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header

from intake import BadRequest, FileTooLarge, IntakeLimits, TooLarge, TooManyFiles

MAX_FIELD_BYTES = 4096


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None
    file: IO[bytes] | None = None
    value: bytearray = field(default_factory=bytearray)
    size: int = 0


@dataclass
class _State:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    field: bytes = b""
    total: int = 0


@dataclass
class Parsed:
    fields: dict[str, str]
    files: list[Part]

    def close(self) -> None:
        for p in self.files:
            if p.file is not None:
                p.file.close()


async def parse(content_type: str, body: AsyncIterator[bytes], limits: IntakeLimits) -> Parsed:
    ctype, params = parse_options_header(content_type)
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise BadRequest("The request must be multipart/form-data with a boundary.")
    parts: list[Part] = []
    state = _State()
    current: list[Part] = []

    def on_part_begin() -> None:
        state.headers = {}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state.field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        key = state.field.lower()
        state.headers[key] = state.headers.get(key, b"") + data[start:end]

    def on_header_end() -> None:
        state.field = b""

    def on_headers_finished() -> None:
        headers = state.headers
        _, disp = parse_options_header(headers.get(b"content-disposition", b""))
        name = disp.get(b"name", b"").decode("utf-8", "replace")
        filename = disp.get(b"filename")
        part = Part(
            name=name,
            filename=filename.decode("utf-8", "replace") if filename is not None else None,
            content_type=headers.get(b"content-type", b"").decode("latin-1") or None,
        )
        if part.filename is not None:
            if sum(1 for p in parts if p.filename is not None) >= limits.max_files + 1:
                raise TooManyFiles(
                    f"A submission may carry at most {limits.max_files} attachments."
                )
            part.file = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115
        parts.append(part)
        current[:] = [part]

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part = current[0]
        n = end - start
        part.size += n
        state.total += n
        if state.total > limits.max_total_bytes:
            raise TooLarge(
                f"The submission is larger than the limit of {limits.max_total_bytes} bytes."
            )
        if part.file is None:
            if part.size > MAX_FIELD_BYTES:
                raise BadRequest(f"The field {part.name!r} is too long.")
            part.value += data[start:end]
            return
        limit = limits.max_form_bytes if part.name == "form" else limits.max_file_bytes
        if part.size > limit:
            raise FileTooLarge(
                f"The file {part.filename!r} is larger than the limit of {limit} bytes."
            )
        part.file.write(data[start:end])

    parser = MultipartParser(
        params[b"boundary"],
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
        },
    )
    parsed = Parsed({}, [])
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
    except Exception:
        for p in parts:
            if p.file is not None:
                p.file.close()
        raise
    for p in parts:
        if p.file is None:
            parsed.fields[p.name] = p.value.decode("utf-8", "replace")
        else:
            p.file.seek(0)
            parsed.files.append(p)
    return parsed
