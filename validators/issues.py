"""The issue record shared by every check in :mod:`validators`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ValidationIssue:
    """One problem found in a submission.

    ``line`` and ``column`` are 1-based positions in the document (``None`` where the issue is
    not about a place in a document, e.g. a file name); ``path`` is an XPath of the offending
    node for XSD errors, or what the issue is about otherwise (e.g. the attachment name).
    """

    code: str
    message: str
    line: int | None = None
    column: int | None = None
    path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "path": self.path,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValidationIssue:
        return cls(
            code=str(data["code"]),
            message=str(data["message"]),
            line=data.get("line"),
            column=data.get("column"),
            path=data.get("path"),
        )
