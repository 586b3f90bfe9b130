"""Columns of elements named in XSD errors.

libxml2 reports the line of a schema validity error but not its column. We find the column by
looking for the element's start tag on its source line: the k-th element with that name
starting on the line is the k-th ``<name`` in the line's text. The result is a best effort
(``None`` when the tag cannot be found, e.g. inside a CDATA look-alike); it is only computed
for documents that have errors.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from lxml import etree


class ColumnFinder:
    """Finds the 1-based column of an element's start tag in the parsed document."""

    def __init__(self, tree: etree._ElementTree, data: bytes) -> None:
        self._tree = tree
        self._data = data
        self._lines: list[str] | None = None
        self._by_line: dict[int, list[etree._Element]] | None = None

    def _source_lines(self) -> list[str]:
        if self._lines is None:
            encoding = self._tree.docinfo.encoding or "utf-8"
            try:
                text = self._data.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                text = self._data.decode("utf-8", errors="replace")
            self._lines = text.split("\n")
        return self._lines

    def _elements_on_lines(self) -> dict[int, list[etree._Element]]:
        if self._by_line is None:
            by_line: dict[int, list[etree._Element]] = defaultdict(list)
            for element in self._tree.getroot().iter(etree.Element):
                if element.sourceline is not None:
                    by_line[element.sourceline].append(element)
            self._by_line = by_line
        return self._by_line

    def column(self, element: etree._Element) -> int | None:
        line = element.sourceline
        if line is None:
            return None
        lines = self._source_lines()
        if not 1 <= line <= len(lines):
            return None
        qname = etree.QName(element).localname
        if element.prefix:
            qname = f"{element.prefix}:{qname}"
        same = [e for e in self._elements_on_lines().get(line, ()) if _written_name(e) == qname]
        index = next((i for i, e in enumerate(same) if e is element), None)
        if index is None:
            return None
        pattern = re.compile("<" + re.escape(qname) + r"(?=[\s/>])")
        matches: Iterable[re.Match[str]] = pattern.finditer(lines[line - 1])
        for i, match in enumerate(matches):
            if i == index:
                return match.start() + 1
        return None


def _written_name(element: etree._Element) -> str:
    local = etree.QName(element).localname
    return f"{element.prefix}:{local}" if element.prefix else local
