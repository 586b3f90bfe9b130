"""JSON form of the exports: plain, sorted keys, UTF-8, times in ISO 8601."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from ._time import iso

if TYPE_CHECKING:
    from .model import JournalExport


def jsonable(value: Any) -> Any:
    """Convert ``value`` to JSON types: datetimes to ISO strings, bytes to base64."""
    if isinstance(value, datetime):
        return iso(value) if value.tzinfo is not None else value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Enum):
        return jsonable(value.value)
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=2).encode("utf-8")


def journal_dict(export: JournalExport) -> dict[str, Any]:
    return {
        "kind": "filing-journal",
        "version": "1.0",
        "authority": jsonable(export.authority),
        "date_from": export.date_from.isoformat(),
        "date_to": export.date_to.isoformat(),
        "generated_at": iso(export.generated_at),
        "entries": [jsonable(e) for e in export.entries],
    }
